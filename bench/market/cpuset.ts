/**
 * @module bench/market/cpuset
 * `--cpu-modes shared,pinned`: where the market bench's processes may run, through the cgroup v1
 * cpuset controller. market7 measured why the slow scavenges are slow: at 10k venue msg/s the
 * gateway's main thread waited ~300 ms of every second for a core, because the simulators and the
 * 1,000 subscribers run on the same two cores. A pause that starts on a taken core is measured long.
 *
 * - `shared`: every process of the rig in the root cpuset (all the machine's CPUs), as before.
 * - `pinned`: the gateway + hub (the measured process, all its threads: V8's GC helpers too) in
 *   `/sys/fs/cgroup/cpuset/aw-market8-<pid>-gateway` on CPU 0, the simulators and subscriber
 *   processes in `aw-market8-<pid>-load` on CPU 1. The rig's own load no longer takes the
 *   gateway's core; other work on the machine (not ours to move) still may, and the gateway can
 *   no longer move to the other core when it does (market8's first pinned run: its main thread
 *   waited longer for a core than in `shared`).
 * - `owned`: `pinned`, and both groups also in cgroup v1 CPU groups of the same names with a high
 *   `cpu.shares` (bench/cluster/cgroup.ts, no quota): the other work on CPU 0 yields to the gateway
 *   (and on CPU 1 to the load), so the gateway has its core as far as the kernel's weights go.
 *
 * A mode is applied by writing each pid to the group's `cgroup.procs` (a process moves with all its
 * threads), so one rig can alternate modes between windows: the same load for each, back to back.
 *
 * @example
 * const split = CoreSplit.create(); split.apply('pinned', process.pid, childPids); … split.remove();
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../src/core/process-alive.js';
import { CPU_CGROUP_ROOT, CpuQuotaGroup } from '../cluster/cgroup.js';

export const CPUSET_ROOT = '/sys/fs/cgroup/cpuset';
/** Every group this bench makes starts so (the shared machine's rule: aw-<helper>-*), then the coordinator's pid. */
export const CPUSET_PREFIX = 'aw-market8-';

export type CpuMode = 'shared' | 'pinned' | 'owned';
export const CPU_MODES: readonly CpuMode[] = ['shared', 'pinned', 'owned'];

export function parseCpuMode(mode: string): CpuMode {
  if (!(CPU_MODES as readonly string[]).includes(mode)) throw new Error(`--cpu-modes: '${mode}' is none of ${CPU_MODES.join(', ')}`);
  return mode as CpuMode;
}

/** The CPUs a cpuset list names (`0-1,3` → [0, 1, 3]). */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/** Throws, saying what to do, when the cpuset controller cannot be used (absent, cgroup v2 only, not writable). */
export function checkCpusetController(root = CPUSET_ROOT): void {
  if (!existsSync(join(root, 'cpuset.cpus'))) {
    throw new Error(`--cpu-modes pinned needs the cgroup v1 cpuset controller at ${root} (no cpuset.cpus there: not mounted, or a cgroup v2-only system). Run with --cpu-modes shared.`);
  }
  try {
    accessSync(join(root, 'cgroup.procs'), constants.W_OK);
  } catch {
    throw new Error(`--cpu-modes pinned: ${root}/cgroup.procs is not writable (run the benchmark as root, or with --cpu-modes shared).`);
  }
  const cpus = parseCpuList(readFileSync(join(root, 'cpuset.cpus'), 'utf8'));
  if (!cpus.includes(0) || !cpus.includes(1)) throw new Error(`--cpu-modes pinned needs CPUs 0 and 1 (the root cpuset has ${cpus.join(',')})`);
}

/** One cpuset group: its CPUs and memory nodes are set before any process joins (the kernel refuses a task otherwise). */
class CpusetGroup {
  constructor(readonly path: string) {}

  static create(path: string, cpus: string, mems: string): CpusetGroup {
    try {
      mkdirSync(path, { recursive: true });
      writeFileSync(join(path, 'cpuset.cpus'), cpus);
      writeFileSync(join(path, 'cpuset.mems'), mems);
    } catch (err) {
      throw new Error(`cannot set up cpuset ${path}: ${(err as Error).message}`);
    }
    return new CpusetGroup(path);
  }

  add(pid: number): void {
    writeFileSync(join(this.path, 'cgroup.procs'), String(pid));
  }

  cpus(): string {
    return readFileSync(join(this.path, 'cpuset.cpus'), 'utf8').trim();
  }
}

/** The rig's two cpusets and the root, and which mode its processes are in. */
export class CoreSplit {
  private constructor(
    readonly gateway: CpusetGroup,
    readonly load: CpusetGroup,
    readonly root: CpusetGroup,
    /** The `owned` mode's weighted CPU groups (gateway, load), made on its first use. */
    private weighted: [CpuQuotaGroup, CpuQuotaGroup] | null = null,
    readonly owner = process.pid,
  ) {}

  /** Checks the controller, removes groups a dead run left, and makes this run's two groups. */
  static create(root = CPUSET_ROOT, owner = process.pid): CoreSplit {
    checkCpusetController(root);
    removeStaleCpusets(root);
    if (root === CPUSET_ROOT) removeStaleCpusets(CPU_CGROUP_ROOT); // the `owned` mode's CPU groups
    const mems = readFileSync(join(root, 'cpuset.mems'), 'utf8').trim();
    return new CoreSplit(CpusetGroup.create(join(root, `${CPUSET_PREFIX}${owner}-gateway`), '0', mems), CpusetGroup.create(join(root, `${CPUSET_PREFIX}${owner}-load`), '1', mems), new CpusetGroup(root), null, owner);
  }

  /** Moves the measured process and the load processes into the mode's groups. A pid that has exited is skipped. */
  apply(mode: CpuMode, measuredPid: number, loadPids: readonly number[]): void {
    const move = (group: CpusetGroup, pid: number) => {
      try {
        group.add(pid);
      } catch (err) {
        if (processAlive(pid)) throw new Error(`cannot move pid ${pid} into ${group.path}: ${(err as Error).message}`);
      }
    };
    const own = mode !== 'shared';
    move(own ? this.gateway : this.root, measuredPid);
    for (const pid of loadPids) move(own ? this.load : this.root, pid);
    if (mode === 'owned') this.weighted ??= [CpuQuotaGroup.create(`${CPUSET_PREFIX}${this.owner}-gateway`, null, 100_000), CpuQuotaGroup.create(`${CPUSET_PREFIX}${this.owner}-load`, null, 100_000)];
    if (!this.weighted) return;
    // Out of `owned`, back to the root CPU group: `pinned` and `shared` run at the default weight.
    const [gatewayWeight, loadWeight] = mode === 'owned' ? this.weighted : [CpuQuotaGroup.root(), CpuQuotaGroup.root()];
    const weigh = (group: { add(pid: number): void }, pid: number) => {
      try {
        group.add(pid);
      } catch (err) {
        if (processAlive(pid)) throw new Error(`cannot move pid ${pid} into a CPU group: ${(err as Error).message}`);
      }
    };
    weigh(gatewayWeight, measuredPid);
    for (const pid of loadPids) weigh(loadWeight, pid);
  }

  /** The CPUs each side may run on in a mode, as the results name them. */
  describe(mode: CpuMode): string {
    const split = `gateway on CPU ${this.gateway.cpus()}, simulators + subscribers on CPU ${this.load.cpus()}`;
    if (mode === 'owned') return `${split}, each side in a CPU group of cpu.shares 65536 (other work on its core yields to it)`;
    return mode === 'pinned' ? split : `every process on CPUs ${this.root.cpus()}`;
  }

  /** Moves whatever is left back to the root cpuset and removes both groups. */
  remove(): void {
    for (const group of [this.gateway, this.load]) emptyAndRemove(group.path, this.root.path);
    for (const group of this.weighted ?? []) {
      group.empty();
      group.remove();
    }
  }
}

function emptyAndRemove(path: string, root: string): boolean {
  try {
    for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(join(root, 'cgroup.procs'), pid);
      } catch {
        /* exited meanwhile */
      }
    }
    rmdirSync(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Removes the groups of runs whose coordinator is gone (their processes go back to the hierarchy's root: cpuset, or cpu for `owned`'s). */
export function removeStaleCpusets(root = CPUSET_ROOT): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const m = new RegExp(`^${CPUSET_PREFIX}(\\d+)-`).exec(name);
    if (m && !processAlive(Number(m[1])) && emptyAndRemove(join(root, name), root)) removed.push(name);
  }
  return removed;
}
