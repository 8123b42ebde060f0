/**
 * @module bench/live/cpu-groups
 * `--server-cpu-quota X`: the server under test in a cgroup v1 CPU group of its own limited to X
 * cores, and every load generator (viewer processes, publishers) in a second group without a
 * ceiling, through bench/cluster's groups (both with a high weight, so the rest of the shared
 * machine cannot take their slices). Each run then reports the CPU each side used and how often
 * the server ran out of its quota: a figure taken while the server was throttled, or while the
 * generators could not keep up, says so instead of being charged to the server.
 *
 * Without the option nothing is moved and the figures carry no throttling.
 */
import { checkCpuController, CpuQuotaGroup, GROUP_PREFIX, removeStaleGroups, throttleDelta, type ThrottleStats } from '../cluster/cgroup.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { procCpuSeconds } from './server.js';

export interface SideCpu {
  /** Percent of one core over the window. */
  cpuPercent: number;
  /** Percent of CFS periods in which the group ran out of quota (null: no group). */
  throttledPercent: number | null;
  throttledMs: number | null;
  /**
   * Time its threads were runnable but waiting for a CPU (/proc/<pid>/task/*\/schedstat), in
   * percent of the window: the machine's other work (or the quota) keeping it off the cores.
   */
  runqueueWaitPercent?: number;
}

export interface CpuSplit {
  server: SideCpu;
  generators: SideCpu;
  /** The server's quota in cores (null: not quota'd). */
  quota: number | null;
}

/** Seconds the process's threads have waited on a run queue (schedstat's second field, all threads). */
export function runqueueWaitSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      /* the thread exited */
    }
  }
  return ns / 1e9;
}

/** The two groups of one bench run, or none. */
export class BenchCpuGroups {
  private constructor(
    readonly server: CpuQuotaGroup | null,
    readonly generators: CpuQuotaGroup | null,
    readonly quota: number | null,
  ) {}

  /** `quota` cores for the server (null: no groups at all). */
  static create(quota: number | null): BenchCpuGroups {
    if (quota === null) return new BenchCpuGroups(null, null, null);
    checkCpuController();
    removeStaleGroups();
    const prefix = `${GROUP_PREFIX}${process.pid}-live-`;
    const server = CpuQuotaGroup.create(`${prefix}server`, quota, 100_000);
    const load = CpuQuotaGroup.create(`${prefix}load`, null, 100_000);
    // The quota is meant to be what the server gets, not only its ceiling: with the machine's
    // other work weighted in (a soak at 65,536), bench/cluster's weight left the server about a
    // third of a core it never used up. The top weight makes the quota the server's share; the
    // generators get the soak's weight (they must keep up, or their lateness is charged to us).
    writeFileSync(join(server.path, 'cpu.shares'), String(262_144));
    writeFileSync(join(load.path, 'cpu.shares'), String(65_536));
    return new BenchCpuGroups(server, load, quota);
  }

  addServer(pid: number): void {
    this.server?.add(pid);
  }

  /** A load generator (viewer process, publisher). */
  addGenerator(pid: number | undefined): void {
    if (pid !== undefined) this.generators?.add(pid);
  }

  /**
   * Starts a window; `end(generatorCpuSeconds)` gives both sides' CPU over it. The generators'
   * CPU is what they report themselves (process.cpuUsage(): they exit before the window closes).
   */
  window(serverPid: number): { end(generatorCpuSeconds: number, generatorWaitSeconds: number): CpuSplit } {
    const t0 = performance.now();
    const s0 = procCpuSeconds(serverPid);
    const w0 = runqueueWaitSeconds(serverPid);
    const th0 = this.server?.throttling();
    const gth0 = this.generators?.throttling();
    const side = (cpuSeconds: number, seconds: number, a?: ThrottleStats, group?: CpuQuotaGroup | null): SideCpu => {
      const cpuPercent = (cpuSeconds / seconds) * 100;
      if (!a || !group) return { cpuPercent, throttledPercent: null, throttledMs: null };
      const d = throttleDelta(a, group.throttling());
      return { cpuPercent, throttledPercent: d.periods ? (d.throttledPeriods / d.periods) * 100 : 0, throttledMs: d.throttledMs };
    };
    return {
      end: (generatorCpuSeconds, generatorWaitSeconds) => {
        const seconds = (performance.now() - t0) / 1000;
        const server = { ...side(procCpuSeconds(serverPid) - s0, seconds, th0, this.server), runqueueWaitPercent: ((runqueueWaitSeconds(serverPid) - w0) / seconds) * 100 };
        const generators = { ...side(generatorCpuSeconds, seconds, gth0, this.generators), runqueueWaitPercent: (generatorWaitSeconds / seconds) * 100 };
        return { server, generators, quota: this.quota };
      },
    };
  }

  /** Removes the groups (their processes have exited by now). */
  remove(): void {
    this.server?.remove();
    this.generators?.remove();
  }
}

/** "server 97 % of 1.0 core (throttled in 12 % of periods, 340 ms) · generators 88 %". */
export function describeSplit(s: CpuSplit): string {
  const throttle = (x: SideCpu) => (x.throttledPercent === null ? '' : `, throttled in ${x.throttledPercent.toFixed(0)} % of periods (${x.throttledMs} ms)`);
  return `server ${s.server.cpuPercent.toFixed(0)} %${s.quota === null ? '' : ` of a ${s.quota}-core quota`}${throttle(s.server)}, waiting for a CPU ${s.server.runqueueWaitPercent?.toFixed(0)} % of the time · generators ${s.generators.cpuPercent.toFixed(0)} %, waiting for a CPU ${s.generators.runqueueWaitPercent?.toFixed(0)} %`;
}
