/**
 * @module bench/live/profile-ingest
 * `npx tsx bench/live/profile-ingest.ts DIR [--warm 30] [--window 40]`: one 1080p30 copy-mode
 * publisher's steady state under `node --cpu-prof` (the profile lands in DIR when the server
 * closes). One stream first warms the process (JIT, pools), as bench/live's ingest section does;
 * the second is the one to read: its `ingest` window is marked in the log with the process's CPU
 * seconds, so a profile's samples can be cut to it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishers, sourceFile, stopAll } from './ingest.js';
import { ServerUnderTest } from './server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const dir = args[0];
if (!dir || dir.startsWith('--')) throw new Error('usage: profile-ingest.ts DIR [--warm 30] [--window 40]');
const file = await sourceFile(mkdtempSync(join(tmpdir(), 'airwaves-profile-ingest-')));
const server = await ServerUnderTest.start({ cpuProfileDir: dir });
for (const [label, seconds] of [['warm', opt('warm', 30)], ['ingest', opt('window', 40)]] as const) {
  const key = await server.createKey();
  const [pub] = publishers(file, [`rtmp://127.0.0.1:${server.rtmpPort}/live/${key}`]);
  await sleep(4000);
  const c0 = server.cpuSeconds();
  await sleep(seconds * 1000);
  console.log(`${label}: ${(((server.cpuSeconds() - c0) / seconds) * 100).toFixed(2)} % CPU over ${seconds} s`);
  await stopAll([pub!]);
  await sleep(2000);
}
await server.close();
