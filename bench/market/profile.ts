/**
 * @module bench/market/profile
 * Profiles of the measured process over the ladder's rungs only (not the start-up and warm-up a
 * `node --cpu-prof` run would mix in): a CPU profile (`--cpu-profile <file>`, a .cpuprofile for
 * Chrome DevTools or any profile reader) and a sampled allocation profile (`--heap-profile
 * <file>`, a .heapprofile: who allocated what was still alive at each sample, the young-generation
 * churn GC pauses come from). Both go through the inspector, in this process.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

export interface ProfileFiles {
  cpu?: string;
  heap?: string;
}

/** Starts the requested profiles; the returned function stops them and writes the files. */
export async function startProfiles(files: ProfileFiles): Promise<() => Promise<void>> {
  if (!files.cpu && !files.heap) return async () => {};
  const session = new Session();
  session.connect();
  if (files.cpu) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  if (files.heap) {
    await session.post('HeapProfiler.enable');
    // Every 16 KB allocated on average; objects collected meanwhile are kept (what churns is the point).
    await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  return async () => {
    if (files.cpu) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(files.cpu, JSON.stringify(profile));
    }
    if (files.heap) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(files.heap, JSON.stringify(profile));
    }
    session.disconnect();
  };
}
