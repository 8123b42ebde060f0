/**
 * @module bench/hub
 * The hub benchmark: `npm run bench -- hub [options]` (see options.ts or --help).
 *
 * The same scenario runs in the same run against the Airwaves hub, a naive `ws` send loop and a
 * minimal Socket.IO server, each in its own process, loaded by receiver and publisher processes.
 * It reports delivered messages/s, delivery latency percentiles, loss, and the CPU and RSS of
 * the server and of every load-generator process; then searches each server's saturation
 * throughput (highest deliveries/s with p99 under the limit and nothing lost), and measures
 * server memory per idle connection. Results: bench/results/hub.json and hub.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, type HubBenchOptions } from './options.js';
import { renderMarkdown, summarize, type HubBenchResults } from './report.js';
import { ladderNotes, renderLadderMarkdown } from './ladder-report.js';
import { runIdle, runLadder, runLoad, type IdleResult, type LoadResult } from './scenario.js';
import { removeDataDir } from './servers.js';
import type { ServerKind } from './wire.js';

const here = dirname(fileURLToPath(import.meta.url));

export async function main(args: string[]): Promise<HubBenchResults> {
  const opts: HubBenchOptions = parseOptions(args, join(here, '..', 'results'));
  const started = Date.now();
  const log = (line: string) => console.log(line);
  log(
    `hub benchmark: ${opts.clients} subscribers on ${opts.channels} channel(s), ${opts.rate} msg/s, ${opts.payloadBytes}-byte payload, ` +
      `${opts.durationMs / 1000} s; ${opts.receivers} receiver processes; servers ${opts.servers.join(', ')}`,
  );
  const loadBefore = loadavg()[0];
  const load: Partial<Record<ServerKind, LoadResult>> = {};
  const idle: Partial<Record<ServerKind, IdleResult>> = {};
  try {
    if (opts.ladder) await runLadders(opts, load, log);
    else {
      for (const kind of opts.servers) {
        log(`\n[${kind}] load`);
        load[kind] = await runLoad(kind, opts, log);
      }
    }
    if (opts.idle) {
      // The bare ws server is the reference; Socket.IO can be added for information (--idle-servers).
      for (const kind of opts.idleServers) {
        log(`\n[${kind}] ${opts.idleClients} idle connections`);
        idle[kind] = await runIdle(kind, opts);
        const r = idle[kind]!;
        log(
          `  ${kind}: RSS ${r.rssBeforeMB} → ${r.rssAfterMB} MB; per connection ${(r.rssBytesPerConnection / 1024).toFixed(2)} KB RSS, ` +
            `${(r.heapBytesPerConnection / 1024).toFixed(2)} KB heap+external (${r.connected} connected)`,
        );
      }
    }
  } finally {
    removeDataDir();
  }
  const results: HubBenchResults = {
    benchmark: 'hub',
    date: new Date().toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    args,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageBefore: Math.round(loadBefore * 100) / 100,
      loadAverageAfter: Math.round(loadavg()[0] * 100) / 100,
    },
    options: opts,
    load,
    idle,
    summary: summarize(opts, load, idle),
  };
  const markdown = opts.ladder ? renderLadderMarkdown(results, ladderNotes()) : renderMarkdown(results);
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'hub.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(opts.outDir, 'hub.md'), markdown);
  log('\n' + markdown);
  log(`results written to ${join(opts.outDir, 'hub.json')} and hub.md (${results.wallSeconds} s)`);
  return results;
}

/**
 * The ladder `opts.repeat` times, the servers in the given order, then reversed, and so on (a
 * drift in the machine's load over the run then weighs on every server alike). Each server's
 * steps of every repetition go into its one LoadResult, tagged with their repetition.
 */
async function runLadders(opts: HubBenchOptions, load: Partial<Record<ServerKind, LoadResult>>, log: (line: string) => void): Promise<void> {
  for (let repetition = 1; repetition <= opts.repeat; repetition++) {
    const order = repetition % 2 === 1 ? opts.servers : [...opts.servers].reverse();
    for (const kind of order) {
      log(`\n[${kind}] ladder${opts.repeat > 1 ? `, repetition ${repetition} of ${opts.repeat}` : ''}`);
      const result = await runLadder(kind, opts, log, repetition);
      const kept = load[kind];
      if (kept) kept.ladder.push(...result.ladder);
      else load[kind] = result;
    }
  }
}
