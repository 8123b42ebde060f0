/**
 * @module bench/support/load
 * The help desk benchmark's load generator, run in a worker thread so the simulated people and
 * the servers do not share one event loop. Each user holds a WebSocket subscribed to their
 * ticket's room, types (typing `send`s as the web UI's client makes them, or one per keystroke:
 * see TypingClient) and posts messages over REST; every room event received is timed.
 */
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { FAST_TYPISTS, GENERAL_TYPISTS, simulateTypist } from '../../src/apps/support/typing-sim.js';
import { reportsOfWebClient } from '../../src/apps/support/shared/typing-client.js';

/**
 * How a simulated client reports typing: `web` as the help desk's own client does (state, resent
 * at most once a second), `keystroke` as a naive client does (a "start" per keystroke), which is
 * what the server's coalescer is for.
 */
export type TypingClient = 'web' | 'keystroke';

export interface LoadUser {
  id: string;
  token: string;
  role: 'agent' | 'customer';
  ticketId: string;
  wsUrl: string;
  httpUrl: string;
}

export interface LoadInput {
  users: LoadUser[];
  durationMs: number;
  /** Events created in the first warmupMs are counted for loss but not timed (JIT, pools, caches). */
  warmupMs: number;
  seed: number;
  typing: TypingClient;
}

export interface LoadOutput {
  /** publish→client latency of chat events: event creation (server) to receipt, ms. */
  chatLatencies: number[];
  /** Same for typing events. */
  typingLatencies: number[];
  /**
   * The chat latency in two parts: event creation → the hub's publish (the publication's `ts`,
   * taken by the first node to publish it: the event log's hop), and that publish → receipt
   * (engine, fan-out, socket, this generator).
   */
  chatToPublish: number[];
  publishToClient: number[];
  /** REST send → receipt by the other member of the room, ms. */
  endToEnd: number[];
  messagesSent: number;
  sendErrors: number;
  expectedDeliveries: number;
  delivered: number;
  duplicates: number;
  typingPublished: number;
  /** Typing signals the server refused (each gets an error reply). */
  typingRefused: number;
  typingReceived: number;
  connectMs: number;
}

const now = () => performance.timeOrigin + performance.now();

// node:http with kept-alive sockets rather than fetch: fetch cost the studio's generator ≈ 3 ms of
// CPU per request, and a busy generator's event loop delays the receipts it is timing.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs JSON and resolves with the status once the response is read. */
function postJson(url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function connect(user: LoadUser, onPush: (frame: Record<string, unknown>) => void): Promise<WebSocket> {
  const ws = new WebSocket(user.wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  const waiting = new Map<number, (f: Record<string, unknown>) => void>();
  ws.on('message', (data) => {
    for (const line of data.toString().split('\n')) {
      const f = JSON.parse(line) as Record<string, unknown>;
      if (typeof f.id === 'number' && waiting.has(f.id)) {
        waiting.get(f.id)!(f);
        waiting.delete(f.id);
      } else onPush(f);
    }
  });
  const request = (op: string, fields: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const n = ++id;
      waiting.set(n, resolve);
      ws.send(JSON.stringify({ id: n, op, ...fields }));
    });
  const c = await request('connect', { token: user.token });
  if (c.ok !== true) throw new Error(`connect: ${JSON.stringify(c)}`);
  const s = await request('subscribe', { channel: `support:room:${user.ticketId}` });
  if (s.ok !== true) throw new Error(`subscribe: ${JSON.stringify(s)}`);
  return ws;
}

async function run(input: LoadInput): Promise<LoadOutput> {
  const out: LoadOutput = { chatLatencies: [], typingLatencies: [], chatToPublish: [], publishToClient: [], endToEnd: [], messagesSent: 0, sendErrors: 0, expectedDeliveries: 0, delivered: 0, duplicates: 0, typingPublished: 0, typingRefused: 0, typingReceived: 0, connectMs: 0 };
  const sentAt = new Map<string, number>();
  const seen = new Map<string, number>();
  const membersOf = new Map<string, number>();
  for (const u of input.users) membersOf.set(u.ticketId, (membersOf.get(u.ticketId) ?? 0) + 1);
  let measuring = true;
  let timedFrom = Infinity;

  const onPush = (user: LoadUser) => (f: Record<string, unknown>) => {
    if (f.ok === false) {
      out.typingRefused++;
      return;
    }
    if (typeof f.offset !== 'number' || !measuring) return;
    const t = now();
    const e = f.data as { type: string; timestamp: number; payload: { body?: string; userId?: string } };
    if (e.type === 'chat_message') {
      const key = `${e.payload.body}|${user.id}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > 1) {
        out.duplicates++;
        return;
      }
      out.delivered++;
      if (e.timestamp < timedFrom) return;
      out.chatLatencies.push(t - e.timestamp);
      if (typeof f.ts === 'number') {
        out.chatToPublish.push(f.ts - e.timestamp);
        out.publishToClient.push(t - f.ts);
      }
      const sent = sentAt.get(e.payload.body!);
      if (sent !== undefined && !e.payload.body!.startsWith(`${user.id}:`)) out.endToEnd.push(t - sent);
    } else if (e.type === 'typing_start' || e.type === 'typing_stop') {
      out.typingReceived++;
      if (e.timestamp >= timedFrom) out.typingLatencies.push(t - e.timestamp);
    }
  };

  const started = performance.now();
  const sockets: WebSocket[] = [];
  // Connect in small batches: a realistic ramp, and no SYN flood on loopback.
  for (let i = 0; i < input.users.length; i += 25) {
    sockets.push(...(await Promise.all(input.users.slice(i, i + 25).map((u) => connect(u, onPush(u))))));
  }
  out.connectMs = Math.round(performance.now() - started);

  timedFrom = now() + input.warmupMs;
  const timers: NodeJS.Timeout[] = [];
  const sends: Promise<void>[] = [];
  input.users.forEach((user, i) => {
    const script = simulateTypist(input.seed * 100_003 + i, input.durationMs, user.role === 'agent' ? FAST_TYPISTS : GENERAL_TYPISTS);
    const signals = input.typing === 'web' ? reportsOfWebClient(script.signals) : script.signals;
    const ws = sockets[i];
    const channel = `support-typing:${user.ticketId}`;
    let cmd = 1_000_000;
    for (const s of signals) {
      timers.push(
        setTimeout(() => {
          if (ws.readyState !== ws.OPEN) return;
          out.typingPublished++;
          // As the web UI does (client.send): a signal without a reply unless it is refused.
          ws.send(JSON.stringify({ id: ++cmd, op: 'send', channel, data: { type: s.state === 'start' ? 'typing_start' : 'typing_stop' } }));
        }, s.at),
      );
    }
    script.messages.forEach((m, k) => {
      timers.push(
        setTimeout(() => {
          const body = `${user.id}:${k}:${'x'.repeat(Math.min(m.chars, 200))}`;
          sentAt.set(body, now());
          out.messagesSent++;
          out.expectedDeliveries += membersOf.get(user.ticketId) ?? 1;
          sends.push(
            postJson(`${user.httpUrl}/api/v1/support/tickets/${user.ticketId}/messages`, user.token, JSON.stringify({ body })).then(
              (status) => {
                if (status !== 201) out.sendErrors++;
              },
              () => void out.sendErrors++,
            ),
          );
        }, m.sentAt),
      );
    });
  });
  // Bounded: the run ends at durationMs whatever is scheduled, then drains for a moment.
  await new Promise((r) => setTimeout(r, input.durationMs));
  for (const t of timers) clearTimeout(t);
  await Promise.all(sends);
  const drainDeadline = performance.now() + 3000;
  while (out.delivered < out.expectedDeliveries && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  measuring = false;
  for (const ws of sockets) ws.close();
  agent.destroy();
  return out;
}

if (parentPort && workerData) {
  run(workerData as LoadInput).then(
    (out) => parentPort!.postMessage({ ok: true, out }),
    (err: Error) => parentPort!.postMessage({ ok: false, error: err.stack ?? err.message }),
  );
}
