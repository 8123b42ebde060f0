/**
 * @module apps/live/abr/ladder
 * What the ABR ladder is made of: rendition specs parsed from `AIRWAVES_LIVE_ABR` ("720,360" or
 * "720:2500,360:700"), the renditions a given source gets (only heights below its own: a ladder
 * never upscales), and the one ffmpeg command that makes them all from one decode.
 *
 * Every rendition keeps the source's timestamps (`-copyts`) and puts a keyframe exactly where
 * the source has one (`-force_key_frames source`, no scene-cut or interval keyframes), so each
 * rendition's segmenter cuts its segments at the same media times as the source's: players can
 * switch at any segment boundary.
 */

export interface RenditionSpec {
  /** Picture height; the width follows the source's aspect ratio (rounded to even). */
  height: number;
  /** Target video bitrate (also the cap, with a two-second buffer). */
  kbps: number;
}

export interface Rendition extends RenditionSpec {
  /** Path segment of its files and the id of its DASH Representation: `720p`. */
  name: string;
  width: number;
}

/** Default bitrate for a height: about 2.8 Mb/s at 720p, scaled with the pixel count. */
export function defaultKbps(height: number): number {
  return Math.max(150, Math.round((2800 * (height / 720) ** 2) / 50) * 50);
}

/** Parses the setting's text (validated by its schema); an empty text is no ladder. */
export function parseLadder(text: string): RenditionSpec[] {
  if (!text.trim()) return [];
  const specs = text.split(',').map((item) => {
    const [h, k] = item.split(':');
    const height = Number(h) & ~1; // encoders want even dimensions
    return { height, kbps: k ? Number(k) : defaultKbps(height) };
  });
  const seen = new Set<number>();
  return specs.filter((s) => !seen.has(s.height) && seen.add(s.height)).sort((a, b) => b.height - a.height);
}

/** The renditions a source of `width`×`height` gets: the specs strictly below its height. */
export function renditionsFor(specs: RenditionSpec[], width: number, height: number): Rendition[] {
  return specs
    .filter((s) => s.height < height)
    .map((s) => ({ ...s, name: `${s.height}p`, width: Math.max(2, Math.round((width * s.height) / height / 2) * 2) }));
}

/**
 * ffmpeg reading FLV on stdin and writing each rendition as FLV on its own pipe (fd 3, 4, …):
 * one decode, one scale and one x264 encode per rendition, the audio copied.
 */
export function ffmpegArgs(renditions: Rendition[], preset: string): string[] {
  const args = ['-hide_banner', '-loglevel', 'warning', '-nostdin', '-fflags', '+nobuffer', '-analyzeduration', '500000', '-probesize', '500000', '-copyts', '-f', 'flv', '-i', 'pipe:0'];
  renditions.forEach((r, i) => {
    args.push(
      '-map', '0:v:0', '-map', '0:a:0?',
      '-vf', `scale=${r.width}:${r.height}`,
      '-c:v', 'libx264', '-preset', preset, '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
      '-b:v', `${r.kbps}k`, '-maxrate', `${r.kbps}k`, '-bufsize', `${r.kbps * 2}k`,
      // Keyframes where the source has them and nowhere else: segment boundaries line up.
      '-force_key_frames', 'source', '-g', '100000', '-sc_threshold', '0',
      '-c:a', 'copy',
      '-flush_packets', '1', '-f', 'flv', `pipe:${3 + i}`,
    );
  });
  return args;
}
