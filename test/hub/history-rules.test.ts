/**
 * A namespace's per-channel history depth (`historyBySuffix`): the longest matching suffix wins
 * whatever the order written, other channels keep `historySize`, and every rule carries the
 * namespace's TTL and storage; bad rules are refused at registration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NamespaceRegistry } from '../../src/hub/namespace.js';

test('historyBySuffix: the longest matching suffix gives a channel its depth', () => {
  const ns = new NamespaceRegistry().register({ name: 'm', historySize: 5, historyTtlSeconds: 7, historyInBuffers: true, historyBySuffix: { '.book': 2, '@all.book': 1 } });
  assert.deepEqual(ns.retentionOf('m:BTC@all.book'), { historySize: 1, historyTtlMs: 7000, inBuffers: true });
  assert.deepEqual(ns.retentionOf('m:BTC@binance.book'), { historySize: 2, historyTtlMs: 7000, inBuffers: true });
  assert.deepEqual(ns.retentionOf('m:BTC@binance.trades'), { historySize: 5, historyTtlMs: 7000, inBuffers: true });
  assert.equal(ns.retentionOf('m:a'), ns.retentionOf('m:b'), 'the same object every call: nothing allocated per publication');
  const plain = new NamespaceRegistry().register({ name: 'p', historySize: 3 });
  assert.deepEqual(plain.retentionOf('p:x'), { historySize: 3, historyTtlMs: 300_000, inBuffers: false });
});

test('historyBySuffix refuses an empty suffix, a negative depth and more than 32 rules', () => {
  const reg = new NamespaceRegistry();
  assert.throws(() => reg.register({ name: 'a', historyBySuffix: { '': 1 } }));
  assert.throws(() => reg.register({ name: 'b', historyBySuffix: { '.x': -1 } }));
  assert.throws(() => reg.register({ name: 'c', historyBySuffix: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`.s${i}`, 1])) }), /at most 32/);
});
