/**
 * @module bench/market/idle
 * The market app's idle cost, as a user runs it: the server with only the market app
 * (`AIRWAVES_APPS=market`, default configuration: the embedded simulator) started from source
 * through tsx (`src/cli.ts serve`), nobody connected; its CPU (user + system, all threads, from
 * /proc) over `seconds` after /readyz?apps=all and a 3 s settle. Then, optionally, the same with
 * one hub client subscribed to a book channel (what a market page open somewhere costs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { load, sleep } from './rig.js';
import { freePort, sampleProc } from '../hub/servers.js';

export interface IdleResult {
  seconds: number;
  idleCpuPctOfCore: number;
  /** The same window with one hub client subscribed to `market:BTC-USDT@binance.book` (null when not measured). */
  subscribedCpuPctOfCore: number | null;
  load: number[];
  at: string;
}

export async function measureIdle(seconds: number, withSubscriber: boolean): Promise<IdleResult> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'market-idle-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, AIRWAVES_APPS: 'market', AIRWAVES_PORT: String(port), AIRWAVES_HOST: '127.0.0.1', AIRWAVES_DATA_DIR: dataDir, AIRWAVES_LOG_LEVEL: 'warn' },
    stdio: 'ignore', // the first start prints the generated admin token: not for a benchmark's log
  });
  try {
    const started = performance.now();
    for (;;) {
      if (performance.now() - started > 180_000) throw new Error('the market server did not serve within 180 s');
      const ok = await fetch(`http://127.0.0.1:${port}/readyz?apps=all`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(200);
    }
    await sleep(3000);
    const window = async () => {
      const t0 = sampleProc(child.pid!).cpuSeconds;
      const w0 = performance.now();
      await sleep(seconds * 1000);
      return Number((((sampleProc(child.pid!).cpuSeconds - t0) / ((performance.now() - w0) / 1000)) * 100).toFixed(2));
    };
    const idleCpuPctOfCore = await window();
    let subscribedCpuPctOfCore: number | null = null;
    if (withSubscriber) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel: 'market:BTC-USDT@binance.book' }));
      await sleep(3000);
      subscribedCpuPctOfCore = await window();
      ws.close();
    }
    return { seconds, idleCpuPctOfCore, subscribedCpuPctOfCore, load: load(), at: new Date().toISOString() };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
