/**
 * @module test/http/listen-backlog
 * The server's listening socket queues LISTEN_BACKLOG connections (capped by the kernel's
 * net.core.somaxconn), not Node's default 511: a join burst of thousands of viewers must not
 * meet dropped SYNs and TCP's 1 s / 3 s retries. `ss` reports a listening socket's backlog in
 * its Send-Q column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LISTEN_BACKLOG } from '../../src/server.js';
import { startServer } from '../helpers/server.js';

test('the listening socket has the raised backlog', async () => {
  const server = await startServer({ apps: [] });
  try {
    const port = new URL(server.url).port;
    const listing = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
    const columns = listing.split(/\s+/);
    assert.equal(columns[0], 'LISTEN', listing);
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    assert.equal(Number(columns[2]), Math.min(LISTEN_BACKLOG, somaxconn), `Send-Q is the backlog: ${listing}`);
    assert.ok(Number(columns[2]) > 511, 'more than Node\'s default');
  } finally {
    await server.close();
  }
});
