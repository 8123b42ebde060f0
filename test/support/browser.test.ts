/**
 * The help desk UI end to end in real Chromium: an agent and a customer, each in their own
 * browser context, chat, see each other typing, and the customer sees a status change and the
 * remote-session notices addressed to her.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDesk } from './harness.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let desk: Awaited<ReturnType<typeof startDesk>>;
let browser: Browser;

before(async () => {
  if (!existsSync('dist/web/support/index.html')) execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit', timeout: 240_000 });
  desk = await startDesk();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await desk?.server.close();
});

async function loginAs(userId: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${userId}] page error:`, err.message));
  await page.goto(`${desk.server.url}/support/`);
  await page.getByTestId(`login-${userId}`).click();
  await page.getByTestId('conn-state').filter({ hasText: 'connected' }).waitFor();
  return page;
}

test('an agent and a customer chat live, see each other typing, and the customer sees status and remote-session changes', async () => {
  const subject = `VPN drops every hour ${Date.now()}`;
  const customer = await loginAs('cust-carla');
  const agent = await loginAs('agent-ana');

  // The customer opens a ticket; it appears in the agent's list without a reload.
  await customer.getByTestId('new-subject').fill(subject);
  await customer.getByTestId('new-body').fill('The VPN disconnects every hour on the hour.');
  await customer.getByTestId('new-ticket').click();
  await customer.getByTestId('ticket-subject').filter({ hasText: subject }).waitFor();
  const listed = agent.locator(`[data-subject="${subject}"]`);
  await listed.waitFor({ timeout: 5000 });
  await listed.click();
  await agent.getByTestId('message').filter({ hasText: 'every hour on the hour' }).waitFor();

  // Customer types: the agent sees the indicator; on send it vanishes and the message shows.
  await customer.getByTestId('composer').pressSequentially('It happens on wifi and on cable', { delay: 40 });
  await agent.getByTestId('typing').filter({ hasText: 'Carla is typing' }).waitFor({ timeout: 5000 });
  await customer.getByTestId('send').click();
  await agent.getByTestId('message').filter({ hasText: 'It happens on wifi and on cable' }).waitFor();
  await agent.waitForFunction(() => document.querySelector('[data-testid="typing"]')?.textContent === '', undefined, { timeout: 5000 });

  // Agent types back: the customer sees the agent typing, then the answer.
  await agent.getByTestId('composer').pressSequentially('Let me take a look at your machine', { delay: 40 });
  await customer.getByTestId('typing').filter({ hasText: 'Ana (agent) is typing' }).waitFor({ timeout: 5000 });
  await agent.getByTestId('send').click();
  await customer.getByTestId('message').filter({ hasText: 'Let me take a look at your machine' }).waitFor();

  // Status change: the customer's view and the agent's list follow at once.
  await agent.getByTestId('status-select').selectOption('pending');
  await customer.getByTestId('ticket-status').filter({ hasText: 'pending' }).waitFor({ timeout: 5000 });
  await listed.getByTestId('list-status').filter({ hasText: 'pending' }).waitFor({ timeout: 5000 });

  // Remote session: the customer is told personally, including the control-mode change and the end.
  await agent.getByTestId('remote-start-view').click();
  await customer.getByTestId('remote-notice').filter({ hasText: 'Ana (agent) started a remote session (view only)' }).waitFor({ timeout: 5000 });
  await agent.getByTestId('remote-toggle-mode').click();
  await customer.getByTestId('remote-notice').filter({ hasText: 'switched the remote session to full control' }).waitFor({ timeout: 5000 });
  await customer.screenshot({ path: '/tmp/support-customer.png' });
  await agent.screenshot({ path: '/tmp/support-agent.png' });
  await customer.getByTestId('remote-revoke').click();
  await customer.getByTestId('remote-notice').filter({ hasText: 'ended' }).waitFor({ timeout: 5000 });

  // What the UI showed is what was stored.
  const { api } = await desk.login('agent-ana');
  const tickets = await api<{ tickets: { id: string; subject: string; status: string }[] }>('GET', '/tickets?limit=500');
  const ticket = tickets.body.tickets.find((t) => t.subject === subject);
  assert.equal(ticket?.status, 'pending');
  const history = await api<{ messages: { body: string }[] }>('GET', `/tickets/${ticket!.id}/messages`);
  assert.deepEqual(history.body.messages.map((m) => m.body), ['The VPN disconnects every hour on the hour.', 'It happens on wifi and on cable', 'Let me take a look at your machine']);
  assert.equal(await customer.getByTestId('message').count(), 3);
});
