/**
 * @module test/db/helpers
 * Runs the real `airwaves` CLI as a second process against a data directory, and builds
 * throwaway data directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readLock } from '../../src/db/data-dir-lock.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const tempDataDir = (): string => mkdtempSync(join(tmpdir(), 'airwaves-db-'));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export const TEST_API_KEY = 'db-test-api-key-0123456789-0123456789-abcdef';

/** The environment of every process these tests start: the data directory and nothing shared. */
export function processEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    AIRWAVES_DATA_DIR: dataDir,
    AIRWAVES_PORT: '0',
    AIRWAVES_HOST: '127.0.0.1',
    AIRWAVES_RADIO_ENABLED: 'false',
    AIRWAVES_LOG_LEVEL: 'warn',
    AIRWAVES_JWT_SECRET: 'db-test-secret-0123456789-0123456789-abcdef',
    AIRWAVES_API_KEY: TEST_API_KEY,
  };
}

/** Runs a TypeScript entry point (src/cli.ts, scripts/…) in a child process to completion. */
export function runScript(script: string, args: string[], dataDir: string, timeoutMs = 90_000): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: processEnv(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** `airwaves <args>` in a child process with the given data directory (nothing else configured). */
export const airwaves = (args: string[], dataDir: string, timeoutMs?: number): Promise<CliRun> => runScript('src/cli.ts', args, dataDir, timeoutMs);

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM and wait for a clean exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/** `airwaves serve` as a real process; resolves once it listens (its lock names its URL). */
export async function startServeProcess(dataDir: string, timeoutMs = 90_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { env: processEnv(dataDir), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holder = readLock(join(dataDir, 'pglite.lock'));
    const url = holder && holder.pid === child.pid ? holder.url : undefined;
    // Listening is not serving every app yet (the CLI opens its port first): wait for all of them.
    if (url && (await fetch(`${url}/readyz?apps=all`).then((r) => r.ok, () => false))) {
      return { url, child, stop: () => (child.kill('SIGTERM'), exited) };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`airwaves serve did not start: ${stderr.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
