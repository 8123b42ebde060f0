/**
 * @module bench/market/heap-flow
 * Where a window's heap bytes went, from V8's own accounting (`v8.GCProfiler`: the heap's spaces
 * before and after every collection) rather than from pause times, which a loaded machine
 * inflates at random: bytes allocated, bytes a scavenge promoted into the old generation, the
 * old generation's inflow (promotion plus objects allocated there directly), and how many
 * scavenges and mark-compacts ran. These are counts of work the process asked of the collector,
 * so they compare between runs whatever else the machine was doing.
 *
 * Why these: a scavenge's pause is about what survives it, and the old generation fills only with
 * what scavenges promote (and what is allocated old). When the old generation has grown by its
 * limit since the last mark-compact, V8 runs another: old-generation inflow per minute sets how
 * often the long pauses come.
 */
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';

/** One space as GCProfiler reports it (camelCase, unlike `getHeapSpaceStatistics`). */
interface SpaceStat {
  spaceName: string;
  spaceUsedSize: number;
}
interface HeapState {
  heapSpaceStatistics: SpaceStat[];
}
export interface GcRecord {
  gcType: string;
  beforeGC: HeapState;
  afterGC: HeapState;
}

export interface HeapFlow {
  /** Bytes allocated on the V8 heap over the window (young and old). */
  allocatedBytes: number;
  /** Bytes scavenges moved into the old generation. */
  promotedBytes: number;
  /** Old-generation growth not undone by a mark-compact: promotion plus direct old allocation. */
  oldInflowBytes: number;
  /**
   * Old-generation growth between collections, by space: objects allocated there directly, not
   * promoted (compiled code, large objects, and what V8's allocation-site pretenuring sends
   * straight to old space once a site's objects kept surviving).
   */
  directOldBySpace: Record<string, number>;
  scavenges: number;
  markCompacts: number;
}

/** Spaces of the young generation; every other space is old (old, code, large objects, …). */
const YOUNG = new Set(['new_space', 'new_large_object_space']);

/** Used bytes of the young and old generations in one reading. */
export function generations(spaces: readonly SpaceStat[]): { young: number; old: number } {
  let young = 0;
  let old = 0;
  for (const s of spaces) {
    if (YOUNG.has(s.spaceName)) young += s.spaceUsedSize;
    else old += s.spaceUsedSize;
  }
  return { young, old };
}

/**
 * The window's flow from the heap at its start, the collections in it (in order) and the heap at
 * its end. Between two collections the heap only grows by allocation; a collection's drop is what
 * it freed, so allocated = growth over the window + everything freed. A scavenge's old-generation
 * growth is what it promoted; a mark-compact's old-generation drop is what it freed there.
 */
export function heapFlow(start: readonly SpaceStat[], records: readonly GcRecord[], end: readonly SpaceStat[]): HeapFlow {
  const flow: HeapFlow = { allocatedBytes: 0, promotedBytes: 0, oldInflowBytes: 0, scavenges: 0, markCompacts: 0, directOldBySpace: {} };
  let prev = generations(start);
  let prevSpaces = start;
  const direct = (spaces: readonly SpaceStat[]) => {
    for (const s of spaces) {
      if (YOUNG.has(s.spaceName)) continue;
      const was = prevSpaces.find((p) => p.spaceName === s.spaceName)?.spaceUsedSize ?? 0;
      if (s.spaceUsedSize > was) flow.directOldBySpace[s.spaceName] = (flow.directOldBySpace[s.spaceName] ?? 0) + s.spaceUsedSize - was;
    }
  };
  for (const r of records) {
    const before = generations(r.beforeGC.heapSpaceStatistics);
    const after = generations(r.afterGC.heapSpaceStatistics);
    // Growth since the previous reading: allocation (never negative between collections, but a
    // concurrent sweeper can shrink the old figure a little: clamp).
    flow.allocatedBytes += Math.max(0, before.young - prev.young) + Math.max(0, before.old - prev.old);
    flow.oldInflowBytes += Math.max(0, before.old - prev.old);
    direct(r.beforeGC.heapSpaceStatistics);
    if (r.gcType === 'Scavenge') {
      flow.scavenges++;
      const promoted = Math.max(0, after.old - before.old);
      flow.promotedBytes += promoted;
      flow.oldInflowBytes += promoted;
    } else if (r.gcType === 'MarkSweepCompact') flow.markCompacts++;
    prev = after;
    prevSpaces = r.afterGC.heapSpaceStatistics;
  }
  direct(end);
  const last = generations(end);
  flow.allocatedBytes += Math.max(0, last.young - prev.young) + Math.max(0, last.old - prev.old);
  flow.oldInflowBytes += Math.max(0, last.old - prev.old);
  return flow;
}

/** The current heap's spaces in GCProfiler's naming. */
function spacesNow(): SpaceStat[] {
  return getHeapSpaceStatistics().map((s) => ({ spaceName: s.space_name, spaceUsedSize: s.space_used_size }));
}

/**
 * Starts recording; the returned function stops and gives the window's flow. The heap is read
 * after the profiler started and before it stops, so neither's own allocation is counted.
 */
export function recordHeapFlow(): () => HeapFlow {
  const profiler = new GCProfiler();
  profiler.start();
  const start = spacesNow();
  return () => {
    const end = spacesNow();
    const result = profiler.stop() as unknown as { statistics: GcRecord[] } | undefined;
    return heapFlow(start, result?.statistics ?? [], end);
  };
}
