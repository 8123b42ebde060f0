/**
 * @module bench/shared/proc
 * What benchmarks that run a server as a child need from the OS: a free loopback port, and a
 * process's CPU time from /proc (all its threads), in clock ticks (`CLK_TCK` per second).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const CLK_TCK = 100;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process and its threads, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
