/**
 * @module bench/market/profile
 * Profiles of the measured process over the ladder's rungs only (not the start-up and warm-up a
 * `node --cpu-prof` run would mix in): a CPU profile (`--cpu-profile <file>`, a .cpuprofile for
 * Chrome DevTools or any profile reader) and a sampled allocation profile (`--heap-profile
 * <file>`, a .heapprofile: who allocated what was still alive at each sample, the young-generation
 * churn GC pauses come from) or, with `--heap-survivors <file>`, the same sampling of only the
 * objects that outlived a scavenge (those promoted to the old generation, even if a mark-compact
 * freed them later): what fills the old generation and brings the mark-compacts. All go through
 * the inspector, in this process.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A scavenge now. The survivors' profile keeps every sample not yet freed by a scavenge, and at
 * any moment the young generation holds up to a semi-space of dead objects not collected yet:
 * one scavenge before the profile stops leaves only what truly outlived one.
 */
function scavengeNow(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  gc({ type: 'minor' });
}

export interface ProfileFiles {
  cpu?: string;
  heap?: string;
  survivors?: string;
}

/** Starts the requested profiles; the returned function stops them and writes the files. */
export async function startProfiles(files: ProfileFiles): Promise<() => Promise<void>> {
  if (files.heap && files.survivors) throw new Error('--heap-profile and --heap-survivors sample the same heap: one at a time');
  const heapFile = files.heap ?? files.survivors;
  if (!files.cpu && !heapFile) return async () => {};
  const session = new Session();
  session.connect();
  if (files.cpu) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  if (heapFile) {
    await session.post('HeapProfiler.enable');
    // Every 16 KB allocated on average. The churn profile keeps every sample (what churns is the
    // point); the survivors' profile drops what a scavenge freed and keeps what a mark-compact did.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: files.heap !== undefined });
  }
  return async () => {
    if (files.cpu) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(files.cpu, JSON.stringify(profile));
    }
    if (heapFile) {
      if (files.survivors) scavengeNow();
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(heapFile, JSON.stringify(profile));
    }
    session.disconnect();
  };
}
