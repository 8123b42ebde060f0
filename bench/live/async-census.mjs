/**
 * @module bench/live/async-census
 * A preload (`node --import`) for finding what wakes an idle server: counts every non-promise
 * callback (timers, immediates, sockets, worker messages) by the stack that created it, with its
 * CPU time and when it fired, and every GC with its kind and start, in each isolate it runs in
 * (the main thread and PGlite's worker). SIGWINCH starts a window; SIGUSR2 writes it as JSON to
 * $CENSUS_OUT (the main thread) and $CENSUS_OUT.t<threadId> (each worker). The hook captures a stack
 * per async resource: it is for idle windows, not for measuring load. bench/live/idle-census runs it.
 */
import { createHook } from 'node:async_hooks';
import { PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const keyOf = new Map();
const stats = new Map();
const started = new Map();
let gcs = [];
let fires = [];
let t0 = performance.now();

const stat = (key) => {
  let s = stats.get(key);
  if (!s) stats.set(key, (s = { created: 0, fired: 0, cpuUs: 0 }));
  return s;
};

/** The first frames outside Node and this file, paths shortened to the package. */
function creator() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack.split('\n').slice(2).filter((line) => !line.includes('node:') && !line.includes('async-census')).slice(0, 4)
    .map((line) => line.trim().replace(/\(.*\/dist\//, '(').replace(/\(.*node_modules\//, '(')).join(' < ');
}

createHook({
  init(id, type) {
    if (type === 'PROMISE') return;
    const key = `${type} ${creator()}`;
    keyOf.set(id, key);
    stat(key).created++;
  },
  before(id) {
    const key = keyOf.get(id);
    if (key) started.set(id, process.cpuUsage());
  },
  after(id) {
    const key = keyOf.get(id);
    const from = started.get(id);
    if (!key || !from) return;
    started.delete(id);
    const used = process.cpuUsage(from);
    const s = stat(key);
    s.fired++;
    s.cpuUs += used.user + used.system;
    fires.push({ t: Math.round(performance.now() - t0), us: used.user + used.system, key: key.slice(0, 160) });
  },
  destroy: (id) => void keyOf.delete(id),
}).enable();

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ t: Math.round(e.startTime - t0), kind: e.detail?.kind, ms: Number(e.duration.toFixed(2)) });
}).observe({ entryTypes: ['gc'] });

function reset() {
  stats.clear();
  gcs = [];
  fires = [];
  t0 = performance.now();
}

function write() {
  const rows = [...stats].map(([key, s]) => ({ key, ...s })).sort((a, b) => b.cpuUs - a.cpuUs || b.fired - a.fired);
  const out = (process.env.CENSUS_OUT ?? 'census.json') + (isMainThread ? '' : `.t${threadId}`);
  writeFileSync(out, JSON.stringify({ rows, gcs, fires: fires.slice(0, 5000), memory: process.memoryUsage() }, null, 1));
}

// Workers cannot take signals: the main thread passes them on over an unref'd channel (it wakes no idle loop).
const channel = new BroadcastChannel('airwaves-async-census');
channel.unref();
if (isMainThread) {
  process.on('SIGWINCH', () => (reset(), channel.postMessage('reset')));
  process.on('SIGUSR2', () => (write(), channel.postMessage('write')));
} else {
  channel.onmessage = (e) => (e.data === 'reset' ? reset() : write());
}
