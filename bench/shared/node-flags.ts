/**
 * @module bench/shared/node-flags
 * BENCH_SERVER_NODE_FLAGS: Node/V8 launch flags for every server a benchmark spawns (the built
 * CLI, the hub bench's servers, live's server, support's nodes), so one environment variable
 * drives a launch-flag A/B across all of them (e.g. `--no-memory-reducer`, `--trace-gc-nvp`).
 */

/** The flags, as argv words (empty when unset). */
export function serverNodeFlags(text = process.env.BENCH_SERVER_NODE_FLAGS ?? ''): string[] {
  return text.split(/\s+/).filter(Boolean);
}
