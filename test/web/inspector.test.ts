/**
 * @module test/web/inspector
 * The hub inspector in real Chromium, on the SDK: with the API key it lists namespaces and
 * channels with live counts; a watched channel shows pretty-printed, wrapped payloads (a
 * 4,000-character word does not widen the page); history, presence, publish and unsubscribe work;
 * and after a server restart (Redis engine, so history outlives the node) the page reconnects
 * with backoff and recovers the message published while it was down.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { assertNoHorizontalScroll, ensureBuilt, launchChromium, openPage } from './harness.js';

const API_KEY = 'inspector-test-key-0123456789-abcdefghijklmnop';
type Server = Awaited<ReturnType<typeof startServer>>;

let redis: TestRedis;
let browser: Browser;
let server: Server;

const startNode = (port: number, nodeId: string) => startServer({ apiKey: API_KEY, port, redisUrl: redis.url, nodeId });

async function publish(base: string, channel: string, data: unknown): Promise<number> {
  const res = await fetch(`${base}/api/v1/publish`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel, data }) });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return (JSON.parse(body) as { offset: number }).offset;
}

before(async () => {
  ensureBuilt();
  redis = await startRedis();
  server = await startNode(0, 'inspector-a');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await redis?.close();
});

test('lists channels with live counts, shows wrapped payloads, history, presence, publish and unsubscribe', async () => {
  const { page, context, errors } = await openPage(browser, `${server.url}/hub/`, 'phone');
  await page.getByTestId('conn-state').filter({ hasText: 'connected' }).waitFor();
  await page.getByTestId('api-key').fill(API_KEY);
  await page.getByTestId('save-credentials').click();
  await page.locator('[data-testid="namespaces"] tr[data-namespace="chat"]').waitFor();

  await page.getByTestId('channel-input').fill('chat:inspect');
  await page.getByTestId('subscribe').click();
  await page.getByTestId('sub-state').filter({ hasText: 'subscribed' }).waitFor();
  // The directory polls every 2 s: the new channel appears with one subscriber (this page).
  await page.locator('[data-testid="channels"] tr[data-channel="chat:inspect"] [data-testid="channel-subscribers"]').filter({ hasText: /^1$/ }).waitFor({ timeout: 6000 });
  assert.equal(server.hub.subscriberCount('chat:inspect'), 1);

  const longWord = 'x'.repeat(4000);
  await publish(server.url, 'chat:inspect', { text: longWord, nested: { a: 1 } });
  const entry = page.getByTestId('entry-live').first();
  await entry.waitFor();
  assert.match(await entry.locator('pre').innerText(), /\{\n {2}"text": "x+",\n {2}"nested": \{\n {4}"a": 1\n {2}\}\n\}/);
  await assertNoHorizontalScroll(page, 'inspector with a 4,000-character word');

  // History replays what came before; the publish form publishes (as the server: chat is "authenticated").
  await publish(server.url, 'chat:inspect', { n: 2 });
  await page.getByTestId('history').click();
  await page.getByTestId('entry-history').nth(1).waitFor();
  await page.getByTestId('publish-body').fill('{"from":"the form"}');
  await page.getByTestId('publish').click();
  await page.getByTestId('published').filter({ hasText: 'published at offset 3' }).waitFor();
  await page.getByTestId('entry-live').filter({ hasText: '"from": "the form"' }).waitFor();
  await page.getByRole('button', { name: 'Presence' }).click();
  await page.getByTestId('presence').filter({ hasText: 'anonymous' }).waitFor();

  await page.getByTestId('unsubscribe').click();
  await page.getByTestId('channel-panel').waitFor({ state: 'detached' });
  for (let i = 0; i < 50 && server.hub.subscriberCount('chat:inspect') > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.hub.subscriberCount('chat:inspect'), 0, 'the server saw the unsubscribe');
  assert.deepEqual(errors, []);
  await context.close();
});

test('after a server restart it reconnects with backoff and recovers what was published meanwhile', async () => {
  const { page, context, errors } = await openPage(browser, `${server.url}/hub/#chat:restart`);
  await page.getByTestId('sub-state').filter({ hasText: 'subscribed' }).waitFor();
  await publish(server.url, 'chat:restart', { before: 'restart' });
  await page.getByTestId('entry-live').filter({ hasText: '"before": "restart"' }).waitFor();

  const port = Number(new URL(server.url).port);
  await server.close();
  await page.getByTestId('conn-state').filter({ hasText: /reconnecting in \d+ s \(attempt [2-9]/ }).waitFor({ timeout: 10_000 });
  // Published through another node on the same Redis while this one is down.
  const other = await startNode(0, 'inspector-b');
  await publish(other.url, 'chat:restart', { during: 'outage' });
  await other.close();

  server = await startNode(port, 'inspector-a');
  await page.getByTestId('conn-state').filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
  await page.getByTestId('entry-system').filter({ hasText: 'recovered after the reconnect: 1 missed message' }).waitFor();
  await page.getByTestId('entry-live').filter({ hasText: '"during": "outage"' }).waitFor();
  await publish(server.url, 'chat:restart', { after: 'restart' });
  await page.getByTestId('entry-live').filter({ hasText: '"after": "restart"' }).waitFor();
  // Console errors from the refused reconnection attempts are the browser's, not the page's.
  assert.deepEqual(errors.filter((e) => !/WebSocket connection to .* failed/.test(e)), []);
  await context.close();
});
