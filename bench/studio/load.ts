/**
 * @module bench/studio/load
 * The studio load generator, run in a worker thread so its JSON parsing and timers do not share
 * the server's event loop. N simulated curators each cycle through list (any sort, following their
 * own cursors), filter, search, count and detail requests until the time or the request budget
 * runs out, in one of two models:
 * - back to back (closed loop, no think time): each user sends its next request as soon as the
 *   last one is read. That is a saturation test: latency ≈ users ÷ throughput.
 * - paced (open loop): each user's requests arrive as a Poisson process (exponential gaps with a
 *   mean of `meanGapMs`), whether or not its earlier ones have been answered, the way 50 curators
 *   who read before they click load a server. Latency is measured from each request's scheduled
 *   time, so a stalled server (or a late timer in this worker) is charged in full rather than
 *   hidden by sending less (no coordinated omission).
 * Every latency ends when the body has been read, gunzipped and parsed.
 */
import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { parentPort, workerData } from 'node:worker_threads';
import { seededRandom } from '../../src/core/random.js';
import { BENCH_AUTH_HEADER } from './auth.js';

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
  /** Paced (open loop) with this mean gap between one user's requests; absent: back to back. */
  meanGapMs?: number;
}

export interface LoadOutput {
  latencies: Record<Op, number[]>;
  errors: Record<Op, number>;
  firstError: string | null;
  elapsedMs: number;
  /** Paced only: arrivals not sent because MAX_IN_FLIGHT_PER_USER × users requests were already outstanding. */
  dropped: number;
}

const API = '/api/v1/studio';
/**
 * Paced only: requests in flight at once, per user, across all users. Arrivals beyond it are not
 * sent but counted in `dropped` (the server is overloaded at that rate; the run says so rather
 * than queueing without bound in this worker).
 */
const MAX_IN_FLIGHT_PER_USER = 4;
const STATUSES = ['generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'draft'];
const TIERS = ['template', 'scenario', 'edge_case'];
const CATEGORIES = ['billing', 'refunds', 'shipping', 'account_access', 'technical', 'privacy', 'security', 'upgrade'];
const SORTS = ['created_at', 'updated_at', 'quality_score', 'title', 'total_tokens'];
const WORDS = ['refund', 'password', 'thermostat', 'router', 'invoice', 'customs', 'warranty', 'subscription', 'zipper', 'nurse', 'frustrated', 'gift card', 'flight rebooking', 'phishing'];

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
  // Paced users may have several requests outstanding (open loop): sockets up to maxInFlight.
  const maxInFlight = input.users * MAX_IN_FLIGHT_PER_USER;
  const agent = new Agent({ keepAlive: true, maxSockets: input.meanGapMs ? maxInFlight : input.users });
  const base = new URL(input.baseUrl);
  const get = (path: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request({ agent, host: base.hostname, port: base.port, path: API + path, headers: { 'accept-encoding': 'gzip', ...BENCH_AUTH_HEADER } }, (res) => {
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

  /** `from`: when the request was due (paced) or sent (back to back). */
  async function timed(op: Op, path: string, from = performance.now()): Promise<unknown> {
    try {
      const { status, body } = await get(path);
      if (status < 200 || status >= 300) throw new Error(`${status} ${JSON.stringify(body).slice(0, 200)}`);
      latencies[op].push(performance.now() - from);
      return body;
    } catch (err) {
      errors[op]++;
      firstError ??= `${op} ${path}: ${(err as Error).message}`;
      return null;
    }
  }

  /** One curator's n-th request (the same mix in both models), timed from `from`. */
  function curator(index: number) {
    const rng = seededRandom(input.seed + index * 7919);
    const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
    let paging: { query: string; cursor: string } | null = null;
    return async (n: number, from?: number): Promise<void> => {
      const op = OPS[n % OPS.length];
      if (op === 'list') {
        // Half the time the curator scrolls on (next page of what they were reading), half they re-sort.
        // Paced, a page still loading has no cursor yet, so the next list starts a new sort.
        const query: string = paging && rng() < 0.5 ? paging.query : `sort=${pick(SORTS)}&order=${rng() < 0.5 ? 'asc' : 'desc'}`;
        const cursor = paging && paging.query === query ? `&cursor=${paging.cursor}` : '';
        paging = null;
        const body = (await timed('list', `/conversations?${query}&limit=50${cursor}`, from)) as { nextCursor?: string | null } | null;
        paging = body?.nextCursor ? { query, cursor: body.nextCursor } : null;
      } else if (op === 'filter') await timed('filter', `/conversations?${filterQuery(rng)}&limit=50`, from);
      else if (op === 'search') await timed('search', `/conversations?q=${encodeURIComponent(pick(WORDS))}${rng() < 0.3 ? `&status=${pick(STATUSES)}` : ''}&limit=50`, from);
      else if (op === 'count') await timed('count', `/conversations/count?${filterQuery(rng)}`, from);
      else await timed('detail', `/conversations/${pick(input.ids)}`, from);
    };
  }

  async function backToBack(index: number): Promise<void> {
    const next = curator(index);
    // Users start on different operations so the mix is even from the first second.
    for (let n = index; n < index + input.maxRequestsPerUser && performance.now() < deadline; n++) await next(n);
  }

  let inFlight = 0;
  let dropped = 0;
  async function paced(index: number, meanGapMs: number): Promise<void> {
    const next = curator(index);
    const gaps = seededRandom(input.seed * 31 + index * 104_729);
    // Exponential gaps: arrivals independent of each other and of how the server is doing.
    const gap = () => -Math.log(1 - gaps()) * meanGapMs;
    const pending = new Set<Promise<void>>();
    let due = started + gap();
    for (let n = index; n < index + input.maxRequestsPerUser && due < deadline; n++, due += gap()) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight >= maxInFlight) {
        dropped++;
        continue;
      }
      inFlight++;
      const p: Promise<void> = next(n, due).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await Promise.all(pending);
  }

  const gapMs = input.meanGapMs;
  await Promise.all(Array.from({ length: input.users }, (_, i) => (gapMs ? paced(i, gapMs) : backToBack(i))));
  agent.destroy();
  return { latencies, errors, firstError, elapsedMs: performance.now() - started, dropped };
}

if (parentPort && workerData) {
  const port = parentPort;
  runLoad(workerData as LoadInput).then(
    (out) => port.postMessage(out),
    (err: Error) => port.postMessage({ error: err.message }),
  );
}
