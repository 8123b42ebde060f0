/**
 * @module bench/live/c-generator
 * The compiled LL-HLS viewer generator (bench/live/llhls-load.c): built at bench time with the
 * system's `cc` (nothing downloaded, nothing committed as a binary) and run as a child process in
 * the generators' CPU group. Why: Node generators spend more CPU per request than the server under
 * test answers them with, so at 2,000 viewers they, not the server, set the latency (the earlier
 * runs' "late" requests). One epoll thread in C sends the same requests for a fraction of that.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViewerJob, ViewerReport } from './viewer-process.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Compiles the generator into `dir`; null (with the reason printed) when there is no working `cc`. */
export function buildCGenerator(dir: string): string | null {
  const out = join(dir, 'llhls-load');
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, join(here, 'llhls-load.c')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    console.warn(`live bench: no C viewer generator (${r.error?.message ?? r.stderr.trim()}); Node generators instead`);
    return null;
  }
  return out;
}

/**
 * Runs one LL-HLS job in the compiled generator; `onPid` lets the caller put it in a CPU group.
 * The report is read when the child's stdout has closed ('close'), not when the child has exited
 * ('exit'): Node reaps every exited child on each SIGCHLD, so when two generators end together the
 * second one's 'exit' can fire while the last pipe-full of its report (up to 64 KB) is still unread;
 * parsing then threw "Expected ',' or ']'" at ~2 MB, a 4 KB multiple (lost runs of live3's bench).
 */
export function runCGenerator(binary: string, job: ViewerJob, onPid: (pid: number) => void): Promise<ViewerReport> {
  const url = new URL(job.base);
  const child = spawn(binary, [url.hostname, url.port, url.pathname, job.playlist, String(job.viewers), String(job.seconds), String(job.first)], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.pid) onPid(child.pid);
  return readJsonReport(child, 'C viewer generator') as Promise<ViewerReport>;
}

/** A child's whole stdout, parsed as JSON, once the child has exited with 0 and its stdout has closed. */
export function readJsonReport(child: ChildProcess, what: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after 'exit' and after the stdio streams ended: every byte printed is here.
    child.once('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`${what} exited with ${code ?? signal}`));
      const text = Buffer.concat(chunks).toString();
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new Error(`${what} printed no report (${text.length} characters read): ${(err as Error).message}`));
      }
    });
  });
}
