/**
 * @module bench/studio/load
 * The studio load generator, run in a worker thread so its JSON parsing and timers do not share
 * the server's event loop. N simulated curators each loop over list (any sort, following their
 * own cursors), filter, search, count and detail requests, back to back, until the time or the
 * request budget runs out; every latency is measured from request to fully read body.
 */
import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parentPort, workerData } from 'node:worker_threads';
import { seededRandom } from '../../src/core/random.js';

export const OPS = ['list', 'filter', 'search', 'count', 'detail'] as const;
export type Op = (typeof OPS)[number];

export interface LoadInput {
  baseUrl: string;
  users: number;
  durationMs: number;
  /** Hard cap on requests per user, whatever the duration. */
  maxRequestsPerUser: number;
  /** Conversation ids the detail requests pick from. */
  ids: string[];
  seed: number;
}

export interface LoadOutput {
  latencies: Record<Op, number[]>;
  errors: Record<Op, number>;
  firstError: string | null;
  elapsedMs: number;
}

const API = '/api/v1/studio';
const STATUSES = ['generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'draft'];
const TIERS = ['template', 'scenario', 'edge_case'];
const CATEGORIES = ['billing', 'refunds', 'shipping', 'account_access', 'technical', 'privacy', 'security', 'upgrade'];
const SORTS = ['created_at', 'updated_at', 'quality_score', 'title', 'total_tokens'];
const WORDS = ['refund', 'password', 'thermostat', 'router', 'invoice', 'customs', 'warranty', 'subscription', 'zipper', 'nurse', 'frustrated', 'gift card', 'flight rebooking', 'phishing'];

const rngFrom = seededRandom;

/** A random but plausible filter bar: a status or two, sometimes a tier, quality floor, category or parameter. */
function filterQuery(rng: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
  const parts = [`status=${rng() < 0.7 ? pick(STATUSES) : `${pick(STATUSES)},${pick(STATUSES)}`}`];
  if (rng() < 0.5) parts.push(`tier=${pick(TIERS)}`);
  if (rng() < 0.3) parts.push(`quality_min=${(4 + Math.floor(rng() * 5)).toString()}`);
  if (rng() < 0.2) parts.push(`category=${pick(CATEGORIES)}`);
  if (rng() < 0.1) parts.push(`params=${encodeURIComponent('{"language":"en-GB"}')}`);
  return parts.join('&');
}

export async function runLoad(input: LoadInput): Promise<LoadOutput> {
  const latencies = Object.fromEntries(OPS.map((op) => [op, [] as number[]])) as Record<Op, number[]>;
  const errors = Object.fromEntries(OPS.map((op) => [op, 0])) as Record<Op, number>;
  let firstError: string | null = null;
  const started = performance.now();
  const deadline = started + input.durationMs;

  // node:http with one kept-alive socket per user rather than fetch: fetch cost this worker ≈ 3 ms
  // of CPU per request, on the same 2 cores as the server it measures. The work per response is
  // the same as a browser's: read the whole body, gunzip it, parse the JSON.
  const agent = new Agent({ keepAlive: true, maxSockets: input.users });
  const base = new URL(input.baseUrl);
  const get = (path: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request({ agent, host: base.hostname, port: base.port, path: API + path, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const raw = Buffer.concat(chunks);
            const text = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch (err) {
            reject(err as Error);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });

  async function timed(op: Op, path: string): Promise<unknown> {
    const t = performance.now();
    try {
      const res = await get(path);
      const body = res.body;
      if (res.status < 200 || res.status >= 300) throw new Error(`${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      latencies[op].push(performance.now() - t);
      return body;
    } catch (err) {
      errors[op]++;
      firstError ??= `${op} ${path}: ${(err as Error).message}`;
      return null;
    }
  }

  async function user(index: number): Promise<void> {
    const rng = rngFrom(input.seed + index * 7919);
    const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
    let paging: { query: string; cursor: string } | null = null;
    // Users start on different operations so the mix is even from the first second.
    for (let n = index; n < index + input.maxRequestsPerUser && performance.now() < deadline; n++) {
      const op = OPS[n % OPS.length];
      if (op === 'list') {
        // Half the time the curator scrolls on (next page of what they were reading), half they re-sort.
        const query: string = paging && rng() < 0.5 ? paging.query : `sort=${pick(SORTS)}&order=${rng() < 0.5 ? 'asc' : 'desc'}`;
        const cursor = paging && paging.query === query ? `&cursor=${paging.cursor}` : '';
        const body = (await timed('list', `/conversations?${query}&limit=50${cursor}`)) as { nextCursor?: string | null } | null;
        paging = body?.nextCursor ? { query, cursor: body.nextCursor } : null;
      } else if (op === 'filter') await timed('filter', `/conversations?${filterQuery(rng)}&limit=50`);
      else if (op === 'search') await timed('search', `/conversations?q=${encodeURIComponent(pick(WORDS))}${rng() < 0.3 ? `&status=${pick(STATUSES)}` : ''}&limit=50`);
      else if (op === 'count') await timed('count', `/conversations/count?${filterQuery(rng)}`);
      else await timed('detail', `/conversations/${pick(input.ids)}`);
    }
  }

  await Promise.all(Array.from({ length: input.users }, (_, i) => user(i)));
  agent.destroy();
  return { latencies, errors, firstError, elapsedMs: performance.now() - started };
}

if (parentPort && workerData) {
  const port = parentPort;
  runLoad(workerData as LoadInput).then(
    (out) => port.postMessage(out),
    (err: Error) => port.postMessage({ error: err.message }),
  );
}
