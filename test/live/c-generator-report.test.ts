/**
 * @module test/live/c-generator-report
 * The live bench reads the compiled LL-HLS generator's whole JSON report (bench/live/c-generator),
 * however many generators end at once and however busy the bench's event loop is. The generator
 * here is a shell script that prints a 2.1 MB report as the C one does at 2,000 viewers and exits:
 * two of them end together, again and again, while a busy reader takes 1 ms over every chunk
 * (the bench process reading two generators under load). Reading at 'exit' instead of 'close'
 * lost the last pipe-full of one report in about one run in ten here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { readJsonReport, runCGenerator } from '../../bench/live/c-generator.js';
import type { ViewerJob } from '../../bench/live/viewer-process.js';

/** 700,001 entries of "1,\n" (2.1 MB) in playlistMs, then the report's other fields. */
const REPORT_SCRIPT = `#!/bin/sh
printf '{"playlistArrivals":[],"partArrivals":[],"playlistMs":['
yes 1, | head -c 2100000
printf '1],"segmentMs":[],"failures":0,"failureKinds":{},"requests":7,"bytes":0,"cpuSeconds":0,"waitSeconds":0}\\n'
`;

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

let after = () => {};

test('two generators ending together: both reports are read whole, 10 times over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-c-generator-'));
  try {
    const binary = join(dir, 'fake-llhls-load');
    writeFileSync(binary, REPORT_SCRIPT);
    chmodSync(binary, 0o755);
    const job: ViewerJob = { mode: 'llhls', base: 'http://127.0.0.1:1/api/v1/streams/x/media', playlist: 'index.m3u8', viewers: 1, seconds: 1, first: 0 };
    // The bench's event loop is busy with other work while its generators print.
    const loaded = setInterval(() => busy(1), 0);
    after = () => clearInterval(loaded);
    for (let round = 0; round < 10; round++) {
      const pids: number[] = [];
      const reports = await Promise.all([0, 1].map(() => runCGenerator(binary, job, (pid) => pids.push(pid))));
      assert.equal(pids.length, 2);
      for (const r of reports) {
        assert.equal(r.playlistMs.length, 700_001, `round ${round}: the whole report`);
        assert.equal(r.requests, 7);
      }
    }
  } finally {
    after();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a busy reader still gets every byte before the report is parsed', async () => {
  for (let round = 0; round < 10; round++) {
    const children = [0, 1].map(() => spawn('sh', ['-c', REPORT_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const reports = children.map((child) => readJsonReport(child, 'report script'));
    for (const child of children) child.stdout!.on('data', () => busy(1));
    for (const r of (await Promise.all(reports)) as { playlistMs: number[] }[]) assert.equal(r.playlistMs.length, 700_001, `round ${round}`);
  }
});

test('a generator that fails or prints no JSON is an error naming it', async () => {
  await assert.rejects(readJsonReport(spawn('sh', ['-c', 'exit 3'], { stdio: ['ignore', 'pipe', 'inherit'] }), 'gen'), /gen exited with 3/);
  await assert.rejects(readJsonReport(spawn('sh', ['-c', 'printf "{\\"a\\":["'], { stdio: ['ignore', 'pipe', 'inherit'] }), 'gen'), /gen printed no report \(6 characters read\)/);
});
