/**
 * @module bench/cluster/cgroup
 * A CPU quota per benchmark node through the cgroup v1 CPU controller, so N nodes on a small
 * machine each get the same slice of a core: the ratio of N quota'd nodes' saturation throughput
 * to one quota'd node's is the scaling a user would see with a core (or any equal share) per node.
 *
 * One group per node: /sys/fs/cgroup/cpu/<name>/ with `cpu.cfs_period_us` and
 * `cpu.cfs_quota_us = quota × period` and `cpu.cfs_burst_us = quota × period` (unused quota of
 * one period may be spent in the next); the node's pid is written to `cgroup.procs` (all its
 * threads follow). The benchmark's default period is 10 ms (2.5 ms of CPU per period at 0.25 of a
 * core): a node out of quota stalls for at most the rest of the period, a few milliseconds, so
 * the p99 limit measures queueing at the node's capacity rather than the kernel's 100 ms
 * period's stalls of up to 75 ms. That needs small units of work: one publication fans out to at
 * most a few hundred sockets per node in the benchmark's load (rig.ts), not to a thousand.
 *
 * Every group (the nodes', one unlimited group for the load generators and one for redis-server) gets a
 * high `cpu.shares`, so processes outside the benchmark (the machine is shared) cannot take the
 * quota'd nodes' slices or starve the generators; the quota stays the ceiling.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../src/core/process-alive.js';

export const CPU_CGROUP_ROOT = '/sys/fs/cgroup/cpu';
/**
 * cpu.shares of the benchmark's groups (the default is 1024 per group or per task of the root
 * group). 65,536, the weight the lead's soak group runs at: with a dozen busy tasks of other work
 * in the root group, 16,384 still let a node under its quota wait behind them (p99 over 50 ms
 * at 40 % of its quota); the quota stays the ceiling, so the weight only decides who waits.
 */
const SHARES = 65_536;

export interface ThrottleStats {
  /** Periods in which the group ran out of quota. */
  throttledPeriods: number;
  periods: number;
  throttledMs: number;
}

/** Throws a message saying what to do when the controller cannot be used (not root, cgroup v2 only, read-only mount). */
export function checkCpuController(root = CPU_CGROUP_ROOT): void {
  if (!existsSync(join(root, 'cpu.cfs_quota_us'))) {
    throw new Error(
      `--node-cpu-quota needs the cgroup v1 CPU controller at ${root} (no cpu.cfs_quota_us there; a cgroup v2-only system is not supported by this benchmark). Run with --node-cpu-quota off for the unquota'd comparison.`,
    );
  }
  try {
    accessSync(root, constants.W_OK);
  } catch {
    throw new Error(`--node-cpu-quota: ${root} is not writable (run the benchmark as root, or with --node-cpu-quota off).`);
  }
}

export class CpuQuotaGroup {
  readonly path: string;
  private constructor(
    readonly name: string,
    readonly quota: number | null,
    readonly periodUs: number,
    root: string,
  ) {
    this.path = join(root, name);
  }

  /** Creates (or reuses) the group and sets its quota: `quota` cores (0.25 = a quarter of one core) per `periodUs`. */
  static create(name: string, quota: number | null, periodUs: number, root = CPU_CGROUP_ROOT): CpuQuotaGroup {
    const group = new CpuQuotaGroup(name, quota, periodUs, root);
    try {
      mkdirSync(group.path, { recursive: true });
      // The quota must fit the period: lower the quota first when shortening the period.
      writeFileSync(join(group.path, 'cpu.cfs_quota_us'), '-1');
      writeFileSync(join(group.path, 'cpu.cfs_period_us'), String(periodUs));
      if (quota !== null) {
        const us = String(Math.max(1000, Math.round(quota * periodUs)));
        writeFileSync(join(group.path, 'cpu.cfs_quota_us'), us);
        // Absent on kernels before 5.14: then no burst allowance.
        if (existsSync(join(group.path, 'cpu.cfs_burst_us'))) writeFileSync(join(group.path, 'cpu.cfs_burst_us'), us);
      }
      // A large weight: the quota is a ceiling, not a promise, and other work on the machine would
      // otherwise decide how much of it a node gets.
      writeFileSync(join(group.path, 'cpu.shares'), String(SHARES));
    } catch (err) {
      throw new Error(`cannot set up CPU cgroup ${group.path}: ${(err as Error).message}`);
    }
    return group;
  }

  /** The root group (to move a process back out before its group is removed). */
  static root(root = CPU_CGROUP_ROOT): { add(pid: number): void } {
    return { add: (pid: number) => writeFileSync(join(root, 'cgroup.procs'), String(pid)) };
  }

  /** Moves a process (with all its threads) into the group. */
  add(pid: number): void {
    writeFileSync(join(this.path, 'cgroup.procs'), String(pid));
  }

  throttling(): ThrottleStats {
    const text = readFileSync(join(this.path, 'cpu.stat'), 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { periods: field('nr_periods'), throttledPeriods: field('nr_throttled'), throttledMs: Math.round(field('throttled_time') / 1e4) / 100 };
  }

  /** Moves whatever still runs in the group back to the root group (so the group can be removed). */
  empty(root = CPU_CGROUP_ROOT): void {
    try {
      for (const pid of readFileSync(join(this.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          writeFileSync(join(root, 'cgroup.procs'), pid);
        } catch {
          /* exited meanwhile */
        }
      }
    } catch {
      /* the group is gone already */
    }
  }

  /** Removes the group; it must be empty (the node has exited). False while a process is still inside. */
  remove(): boolean {
    try {
      rmdirSync(this.path);
      return true;
    } catch (err) {
      // Already removed counts as removed; a process still inside leaves the group (harmless).
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
}

export function throttleDelta(a: ThrottleStats, b: ThrottleStats): ThrottleStats {
  return { periods: b.periods - a.periods, throttledPeriods: b.throttledPeriods - a.throttledPeriods, throttledMs: b.throttledMs - a.throttledMs };
}

/** The prefix of every group this benchmark creates: `airwaves-bench-<coordinator pid>-<node>`. */
export const GROUP_PREFIX = 'airwaves-bench-';

/**
 * Removes the groups an interrupted run left behind (its coordinator is gone): whatever still
 * runs in one (an orphaned node or load generator) is moved back to the root group, so a later
 * run neither inherits its quota nor leaks the group. Returns what was cleaned, for the log.
 */
export function removeStaleGroups(root = CPU_CGROUP_ROOT): { groups: string[]; movedPids: number[] } {
  const groups: string[] = [];
  const movedPids: number[] = [];
  for (const name of readdirSync(root)) {
    const m = new RegExp(`^${GROUP_PREFIX}(\\d+)-`).exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const path = join(root, name);
    try {
      const pids = readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        writeFileSync(join(root, 'cgroup.procs'), String(pid));
        movedPids.push(pid);
      }
      rmdirSync(path);
      groups.push(name);
    } catch {
      /* raced with a process exiting, or not ours to remove: left as it is */
    }
  }
  return { groups, movedPids };
}
