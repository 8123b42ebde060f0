/**
 * @module bench/hub/gc-on-signal
 * Preloaded (`--import`) into every server under test, started with --expose-gc: SIGUSR2 runs a
 * full garbage collection, so idle-memory readings of all servers are taken after the same
 * clean-up and not at whatever point each heap happened to be. After the collection it writes
 * `process.memoryUsage()` to $BENCH_MEMORY_FILE: RSS alone can hide new connections in pages a
 * large process freed earlier, so the coordinator also compares V8 heap and external memory.
 */
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const file = process.env.BENCH_MEMORY_FILE;
  if (file) writeFileSync(file, JSON.stringify({ ...process.memoryUsage(), at: Date.now() }));
});
