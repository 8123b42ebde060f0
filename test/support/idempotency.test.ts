/**
 * @module test/support/idempotency
 * Client retries carry an Idempotency-Key and create one row: a retried or racing POST of a
 * message or a new ticket with the same key returns what the first attempt stored (real server,
 * PGlite), and /openapi.json documents the header on every route that takes it.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDesk } from './harness.js';

type Desk = Awaited<ReturnType<typeof startDesk>>;

describe('Idempotency-Key on the help desk routes', () => {
  let desk: Desk;
  before(async () => {
    desk = await startDesk();
  });
  after(async () => {
    await desk?.server.close();
  });

  async function post<T>(token: string, path: string, body: unknown, key?: string) {
    const res = await fetch(`${desk.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T & { error?: { code: string; message: string } } };
  }

  test('a retried message POST with the same key, even several racing at once, stores one row', async () => {
    const carla = await desk.login('cust-carla');
    const ticketId = (await carla.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: 'Printer', body: 'It jams' })).body.ticket.id;
    const path = `/tickets/${ticketId}/messages`;
    const first = await post<{ message: { id: number } }>(carla.token, path, { body: 'Still jammed' }, 'retry-key-1');
    const retry = await post<{ message: { id: number } }>(carla.token, path, { body: 'Still jammed' }, 'retry-key-1');
    assert.equal(first.status, 201);
    assert.equal(retry.status, 201);
    assert.equal(retry.body.message.id, first.body.message.id);

    const racing = await Promise.all(Array.from({ length: 6 }, () => post<{ message: { id: number } }>(carla.token, path, { body: 'Paper everywhere' }, 'race-key-1')));
    assert.deepEqual(racing.map((r) => r.status), [201, 201, 201, 201, 201, 201], JSON.stringify(racing.map((r) => r.body)));
    assert.equal(new Set(racing.map((r) => r.body.message.id)).size, 1, 'every racing retry got the one stored message');

    const page = await carla.api<{ messages: { body: string }[] }>('GET', `${path}?limit=200`);
    assert.deepEqual(page.body.messages.map((m) => m.body), ['It jams', 'Still jammed', 'Paper everywhere']);
  });

  test('a retried ticket POST with the same key opens one ticket; a message key cannot open a ticket', async () => {
    const dev = await desk.login('cust-dev');
    const input = { subject: `Refund ${Date.now()}`, body: 'Charged twice' };
    const first = await post<{ ticket: { id: string }; message: { id: number } }>(dev.token, '/tickets', input, 'open-key-1');
    const again = await Promise.all([1, 2, 3].map(() => post<{ ticket: { id: string }; message: { id: number } }>(dev.token, '/tickets', input, 'open-key-1')));
    assert.equal(first.status, 201);
    for (const r of again) {
      assert.equal(r.status, 201);
      assert.equal(r.body.ticket.id, first.body.ticket.id);
      assert.equal(r.body.message.id, first.body.message.id);
    }
    const mine = await dev.api<{ tickets: { subject: string }[] }>('GET', '/tickets');
    assert.equal(mine.body.tickets.filter((t) => t.subject === input.subject).length, 1);

    // The same text without a key is a new action: a second ticket.
    assert.equal((await post(dev.token, '/tickets', input)).status, 201);
    assert.equal((await dev.api<{ tickets: { subject: string }[] }>('GET', '/tickets')).body.tickets.filter((t) => t.subject === input.subject).length, 2);

    assert.equal((await post(dev.token, `/tickets/${first.body.ticket.id}/messages`, { body: 'hello' }, 'msg-key-9')).status, 201);
    const misuse = await post(dev.token, '/tickets', { subject: 'Other', body: 'x' }, 'msg-key-9');
    assert.equal(misuse.status, 409);
    assert.match(misuse.body.error?.message ?? '', /already used for a message/);
  });

  test('a malformed key is a 400 naming the header, before anything is stored', async () => {
    const carla = await desk.login('cust-carla');
    for (const key of ['has space', 'x'.repeat(201), 'ünïcode']) {
      const r = await post(carla.token, '/tickets', { subject: `Bad key ${key.length}`, body: 'x' }, key);
      assert.equal(r.status, 400, key);
      assert.equal(r.body.error?.code, 'bad_request');
      assert.match(r.body.error?.message ?? '', /idempotency-key/i);
    }
    const mine = await carla.api<{ tickets: { subject: string }[] }>('GET', '/tickets');
    assert.equal(mine.body.tickets.filter((t) => t.subject.startsWith('Bad key')).length, 0);
  });

  test('/openapi.json lists the Idempotency-Key header on every route that takes it', async () => {
    const spec = (await (await fetch(`${desk.server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: { pattern?: string } }[] }>> };
    for (const path of ['/api/v1/support/tickets', '/api/v1/support/tickets/{ticketId}/messages', '/api/v1/support/events']) {
      const header = spec.paths[path]?.post?.parameters?.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      assert.ok(header, `${path} documents Idempotency-Key: ${JSON.stringify(spec.paths[path]?.post?.parameters)}`);
      assert.equal(header.schema?.pattern, '^[\\x21-\\x7e]{1,200}$');
    }
  });
});
