/**
 * @module test/db/helpers
 * Runs the real `airwaves` CLI as a second process against a data directory, and builds
 * throwaway data directories.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const tempDataDir = (): string => mkdtempSync(join(tmpdir(), 'airwaves-db-'));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `airwaves <args>` in a child process with the given data directory (nothing else configured). */
export function airwaves(args: string[], dataDir: string, timeoutMs = 90_000): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        AIRWAVES_DATA_DIR: dataDir,
        AIRWAVES_PORT: '0',
        AIRWAVES_HOST: '127.0.0.1',
        AIRWAVES_RADIO_ENABLED: 'false',
        AIRWAVES_LOG_LEVEL: 'warn',
        AIRWAVES_JWT_SECRET: 'db-test-secret-0123456789-0123456789-abcdef',
        AIRWAVES_API_KEY: 'db-test-api-key-0123456789-0123456789-abcdef',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
