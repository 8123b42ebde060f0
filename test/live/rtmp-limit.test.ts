/**
 * @module test/live/rtmp-limit
 * The embedded RTMP listener's cap on open connections (AIRWAVES_LIVE_RTMP_MAX_CONNECTIONS):
 * a connection past the cap is closed before any byte is answered, and the refusal is counted
 * (`live_rtmp_rejected_total{reason="connection_limit"}`) and logged, never dropped silently;
 * connections under the cap keep working, and a freed place is given to the next connection.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { createLiveApp, type LiveHandle } from '../../src/apps/live/index.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from './harness.js';

/** The server's warn lines, as JSON (the refusal's log line is part of what is tested). */
const logLines: { msg: string; reason?: string; ip?: string }[] = [];
let live: { server: Awaited<ReturnType<typeof startServer>>; rtmpPort: number };

before(async () => {
  let handle: LiveHandle | null = null;
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) });
  const server = await startServer({ databaseUrl: 'pglite://memory', liveRtmpPort: 0, liveRtmpMaxConnections: 2 }, { apps: [createLiveApp({ onReady: (h) => void (handle = h) })], logger });
  live = { server, rtmpPort: (handle as LiveHandle | null)?.rtmpPort ?? 0 };
});
after(async () => {
  await live.server.close();
});

const refusals = async (): Promise<number> => {
  const text = await fetch(`${live.server.url}/metrics`).then((r) => r.text());
  const m = /live_rtmp_rejected_total\{reason="connection_limit"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
};

/** S0 + S1 + S2: the server's whole answer to C0 + C1. */
const REPLY = 1 + 1536 * 2;

/** Connects, sends C0 + C1 and collects the server's answer until it is whole, the server closes, or `ms` pass. */
async function handshakeReply(ms = 1500): Promise<{ socket: Socket; received: () => number; closed: Promise<void> }> {
  const socket = connect(live.rtmpPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = 0;
  let answered = () => {};
  const replied = new Promise<void>((resolve) => (answered = resolve));
  socket.on('data', (d: Buffer) => {
    received += d.length;
    if (received >= REPLY) answered();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
  await Promise.race([closed, replied, new Promise((r) => setTimeout(r, ms))]);
  return { socket, received: () => received, closed };
}

test('a connection past the cap is closed unanswered, counted and logged; a freed place is reused', { timeout: 60_000 }, async () => {
  const before = await refusals();
  const first = await handshakeReply();
  const second = await handshakeReply();
  assert.equal(first.received(), REPLY, 'under the cap: S0 + S1 + S2');
  assert.equal(second.received(), REPLY);

  const third = await handshakeReply(5000);
  await third.closed;
  assert.equal(third.received(), 0, 'past the cap: closed before any reply');
  await waitFor('the refusal counted', async () => ((await refusals()) === before + 1 ? true : undefined));
  const line = logLines.find((l) => l.msg.startsWith('RTMP connection refused'));
  assert.ok(line, 'a warn line names the refusal');
  assert.equal(line.reason, 'connection_limit');
  assert.equal(line.ip, '127.0.0.1');
  assert.match(line.msg, /2 RTMP connections open \(the limit is 2\)/);

  // The two accepted connections were not disturbed by the refusal.
  assert.equal(first.socket.destroyed, false);
  assert.equal(second.socket.destroyed, false);

  first.socket.destroy();
  await first.closed;
  // The server sees the close a moment later; until then a newcomer may still be refused.
  const fourth = await waitFor('a freed place accepts a connection', async () => {
    const c = await handshakeReply();
    if (c.received() === REPLY) return c;
    c.socket.destroy();
    return undefined;
  }, 10_000, 200);
  assert.equal(fourth.socket.destroyed, false);
  second.socket.destroy();
  fourth.socket.destroy();
});
