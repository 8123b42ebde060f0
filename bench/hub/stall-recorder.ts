/**
 * @module bench/hub/stall-recorder
 * Preloaded (`--import`) into a server under test when `$BENCH_STALL_FILE` is set (the hub
 * benchmark's `--diagnose`): records every garbage collection longer than 1 ms and every
 * event-loop turn that ran late by more than 5 ms, with monotonic timestamps (µs, the clock of
 * V8's CPU profiles, so a stall can be matched with what the profile shows at that time), and
 * writes them to that file when the process exits. This is how the hub's latency tail was traced
 * to its cause (docs/benchmarks.md, "The tail").
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const file = process.env.BENCH_STALL_FILE;
if (file) {
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  // performance.now() and hrtime share the monotonic clock; the offset turns entry times into hrtime µs.
  const offsetUs = nowUs() - performance.now() * 1000;
  const gcs: { atUs: number; ms: number; kind: string }[] = [];
  const stalls: { atUs: number; lateMs: number }[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < 1) continue;
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      gcs.push({ atUs: Math.round(offsetUs + e.startTime * 1000), ms: Math.round(e.duration * 100) / 100, kind: kinds[kind] ?? String(kind) });
    }
  }).observe({ entryTypes: ['gc'] });
  const PERIOD_MS = 5;
  let expected = performance.now() + PERIOD_MS;
  setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    if (late > 5) stalls.push({ atUs: Math.round(offsetUs + expected * 1000), lateMs: Math.round(late * 10) / 10 });
    expected = now + PERIOD_MS;
  }, PERIOD_MS).unref();
  process.on('exit', () => writeFileSync(file, JSON.stringify({ gcs, stalls })));
}

// With $BENCH_HEAP_SAMPLE_FILE: a sampling heap profile of the objects that outlive a scavenge
// but die later (kept through minor GCs' deaths excluded, major GCs' deaths included) — where
// promoted garbage, the cost of long scavenges, is allocated.
const heapFile = process.env.BENCH_HEAP_SAMPLE_FILE;
if (heapFile) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false } as object);
  process.on('SIGTERM', () => {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(heapFile, JSON.stringify((result as { profile: unknown }).profile));
    });
  });
}
