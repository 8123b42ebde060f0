/**
 * @module web/live/player-config
 * The hls.js settings of the viewer page for LL-HLS, in one place so the benchmark's glass-to-glass
 * page (bench/live/glass) plays exactly as a viewer of /live/ does; and those we recommend for
 * third-party players of the plain HLS playlist, which the benchmark uses for its HLS figure.
 * - No `liveSyncDuration(Count)`: hls.js then holds the server's PART-HOLD-BACK (three parts)
 *   behind the live edge; `liveSyncDurationCount: 1` meant a whole target duration (1 s).
 * - `maxLiveSyncPlaybackRate`: a player that fell behind (a late part, a busy tab) plays up to
 *   1.25× until it is back at the target, instead of staying behind for the rest of the show.
 * - `liveSyncOnStallIncrease`: each stall moves the target back 0.25 s, not hls.js's default 1 s
 *   (a stall at 250 ms parts costs about one part, not four).
 */
export const LOW_LATENCY_HLS = {
  lowLatencyMode: true,
  backBufferLength: 10,
  maxLiveSyncPlaybackRate: 1.25,
  liveSyncOnStallIncrease: 0.25,
} as const;

/**
 * hls.js settings we recommend for players of the plain HLS playlist (plain.m3u8, 1 s segments):
 * defaults plus the same catch-up, so a player that stalled on a busy machine returns to three
 * segments behind the edge instead of keeping every second it lost.
 */
export const PLAIN_HLS = {
  lowLatencyMode: false,
  maxLiveSyncPlaybackRate: 1.25,
} as const;
