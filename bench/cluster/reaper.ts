/**
 * @module bench/cluster/reaper
 * Nothing a cluster run started outlives it. The run registers every process it starts (nodes,
 * redis-server, load generators) and every CPU group it creates; when the run ends other than
 * through its own teardown (SIGINT, SIGTERM, SIGHUP, an uncaught exception or unhandled
 * rejection, or any `process.exit`), the reaper SIGKILLs them all and removes the groups, at once
 * and synchronously: an interrupted run's async teardown could itself wait on what hangs.
 *
 * Nodes are started detached, each the leader of its own process group, and are killed as a
 * group (`kill(-pgid)`), so nothing they spawned survives them either; redis-server and the
 * load generators are single processes, killed by pid. Groups are emptied into the root group
 * before removal, so a process that does not die at once cannot keep one alive. A run whose
 * launcher dies without passing a signal on (`watchAncestors`) reaps itself the same way.
 */
import { readFileSync } from 'node:fs';
import { processAlive } from '../../src/core/process-alive.js';
import { CpuQuotaGroup } from './cgroup.js';

/** How long an interrupted run waits for its killed processes to leave their CPU groups. */
const GROUP_REMOVAL_MS = 3000;
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export class Reaper {
  private readonly pids = new Map<number, string>();
  private readonly groups = new Set<CpuQuotaGroup>();
  private installed = false;

  /** Registers a process; `what` names it in the log when it has to be killed. */
  track(pid: number | undefined, what: string): void {
    if (pid !== undefined) this.pids.set(pid, what);
  }

  untrack(pid: number | undefined): void {
    if (pid !== undefined) this.pids.delete(pid);
  }

  trackGroup(group: CpuQuotaGroup): void {
    this.groups.add(group);
  }

  untrackGroup(group: CpuQuotaGroup): void {
    this.groups.delete(group);
  }

  /** What is still registered (the normal teardown leaves nothing). */
  get pending(): { pids: number[]; groups: string[] } {
    return { pids: [...this.pids.keys()], groups: [...this.groups].map((g) => g.name) };
  }

  /** Installs the handlers, once per process. `log` gets one line per interruption. */
  install(log: (line: string) => void): void {
    if (this.installed) return;
    this.installed = true;
    for (const signal of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
      process.on(signal, () => {
        log(`\n${signal}: killing ${this.describe()}`);
        this.reapNow();
        process.exit(SIGNAL_EXIT[signal]);
      });
    }
    const fatal = (err: unknown) => {
      console.error(err);
      log(`\nuncaught error: killing ${this.describe()}`);
      this.reapNow();
      process.exit(1);
    };
    process.on('uncaughtException', fatal);
    process.on('unhandledRejection', fatal);
    // Whatever else ends the process (bench/run.ts exiting on an error): nothing stays behind.
    process.on('exit', () => this.reapNow());
  }

  /** SIGKILLs every registered process (its whole group if it leads one) and removes the groups. */
  reapNow(): void {
    for (const pid of this.pids.keys()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    this.pids.clear();
    // A killed process stays in its group until it has exited: retry for a moment.
    const deadline = Date.now() + GROUP_REMOVAL_MS;
    let left = [...this.groups];
    while (left.length) {
      for (const group of left) group.empty();
      left = left.filter((group) => !group.remove());
      if (!left.length || Date.now() > deadline) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    this.groups.clear();
  }

  /**
   * Ends the run when a process that started it goes away: `npm run bench` is npm → sh → tsx →
   * this process, and a SIGTERM to npm kills npm and sh without passing it on, which would leave
   * this run (and everything it started) orphaned. Watched: the ancestors in this process's own
   * process group (the wrappers started with it), every half second.
   */
  watchAncestors(log: (line: string) => void): void {
    const ancestors = sameGroupAncestors();
    if (!ancestors.length) return;
    const timer = setInterval(() => {
      const gone = ancestors.find((pid) => !processAlive(pid));
      if (gone === undefined) return;
      clearInterval(timer);
      log(`\nprocess ${gone} that started this run is gone: killing ${this.describe()}`);
      this.reapNow();
      process.exit(143);
    }, 500);
    timer.unref();
  }

  private describe(): string {
    const { pids, groups } = this.pending;
    return `${pids.length} process(es) [${[...this.pids].map(([pid, what]) => `${what} ${pid}`).join(', ')}] and removing ${groups.length} CPU group(s)`;
  }
}

/** /proc/<pid>/stat fields after the command name: state, ppid, pgrp. */
function statOf(pid: number): { ppid: number; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** This process's ancestors in its own process group, nearest first. */
function sameGroupAncestors(): number[] {
  const own = statOf(process.pid);
  if (!own) return [];
  const found: number[] = [];
  for (let pid = own.ppid; pid > 1; ) {
    const stat = statOf(pid);
    if (!stat || stat.pgrp !== own.pgrp) break;
    found.push(pid);
    pid = stat.ppid;
  }
  return found;
}

/** The run's one reaper. */
export const reaper = new Reaper();
