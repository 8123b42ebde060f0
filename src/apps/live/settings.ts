/**
 * @module apps/live/settings
 * The live app's settings: the embedded RTMP listener, LL-HLS part and segment targets,
 * viewer counting, history sampling, the optional ABR ladder and the stream-key guessing limit.
 * Each has its environment variable, default and meaning; src/config.ts merges them with the
 * core's into the one configuration table and the README reference (`npm run docs:config`).
 * The app reads them on `ctx.config`.
 */
import { z } from 'zod';
import { bool, port, positiveInt, type SettingFields, type SettingsOf } from '../../core/settings.js';

/** Field → [environment variable, schema with default, meaning, options]. */
export const LIVE_SETTINGS = {
  liveRtmpEnabled: ['AIRWAVES_LIVE_RTMP_ENABLED', bool.default(true), 'run the live app\'s embedded RTMP listener (with nginx-rtmp in front, keep it on a private port: nginx relays each stream to it for packaging)'],
  liveRtmpPort: ['AIRWAVES_LIVE_RTMP_PORT', port.default(1935), 'TCP port of the embedded RTMP listener (0 picks a free port)'],
  liveRtmpMaxConnections: ['AIRWAVES_LIVE_RTMP_MAX_CONNECTIONS', positiveInt.default(1000), 'open connections the embedded RTMP listener accepts at once; one more is closed at once, logged (`RTMP connection refused`) and counted (live_rtmp_rejected_total{reason="connection_limit"})'],
  liveIngestUrl: ['AIRWAVES_LIVE_INGEST_URL', z.string().regex(/^rtmps?:\/\//, 'an rtmp:// URL').optional(), 'ingest URL shown to streamers, without the key (default rtmp://<host>:<RTMP port>/live)'],
  livePartTargetMs: ['AIRWAVES_LIVE_PART_MS', z.coerce.number().int().min(100).max(2000).default(250), 'LL-HLS part target duration (ms)'],
  liveSegmentTargetMs: ['AIRWAVES_LIVE_SEGMENT_MS', z.coerce.number().int().min(500).max(10_000).default(1000), 'shortest segment (ms); segments end at the first keyframe after it'],
  liveViewerTimeoutMs: ['AIRWAVES_LIVE_VIEWER_TIMEOUT_MS', z.coerce.number().int().min(1000).max(300_000).default(6000), 'an HLS/DASH viewer without WebSocket leaves the count after this long without a manifest request'],
  liveSampleIntervalMs: ['AIRWAVES_LIVE_SAMPLE_MS', z.coerce.number().int().min(250).max(60_000).default(5000), 'how often each live stream\'s viewers and ingest health are sampled into its history'],
  liveAbr: ['AIRWAVES_LIVE_ABR', z.string().regex(/^(\d{3,4}(:\d{2,5})?(,\d{3,4}(:\d{2,5})?)*)?$/, 'comma-separated heights, each optionally :kbps (720,360 or 720:2500,360:700)').default(''), 'ABR ladder: renditions transcoded by ffmpeg beside the remuxed source, as picture heights with an optional :kbps (e.g. 720,360); only those below the source\'s height are made; empty: remux only, no transcoding'],
  liveAbrPreset: ['AIRWAVES_LIVE_ABR_PRESET', z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'), 'x264 preset of the ABR renditions (faster presets cost less CPU per rendition and more bits)'],
  liveKeyFailuresPerMinute: ['AIRWAVES_LIVE_KEY_FAILURES_PER_MINUTE', positiveInt.default(10), 'bad stream keys one IP address may try per minute before its publishes are refused unchecked'],
} as const satisfies SettingFields;

export type LiveConfig = SettingsOf<typeof LIVE_SETTINGS>;
