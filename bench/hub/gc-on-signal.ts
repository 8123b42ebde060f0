/**
 * @module bench/hub/gc-on-signal
 * Preloaded (`--import`) into every server under test, started with --expose-gc: SIGUSR2 runs a
 * full garbage collection, so idle-memory readings of all servers are taken after the same
 * clean-up and not at whatever point each heap happened to be.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
});
