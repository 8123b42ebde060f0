import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer } from '../../src/core/coalescer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Coalescer', () => {
  test('emits only the last value of a window, once, at its end', async () => {
    const out: [string, number][] = [];
    const c = new Coalescer<number>({ windowMs: 40, emit: (k, v) => out.push([k, v]) });
    c.offer('a', 1);
    c.offer('a', 2);
    c.offer('a', 3);
    assert.deepEqual(out, [], 'nothing before the window closes');
    await sleep(80);
    assert.deepEqual(out, [['a', 3]]);
    assert.deepEqual(c.stats, { absorbed: 2, emitted: 1, open: 0 });
  });

  test('keys have independent windows', async () => {
    const out: string[] = [];
    const c = new Coalescer<string>({ windowMs: 30, emit: (k, v) => out.push(`${k}=${v}`) });
    c.offer('x', '1');
    c.offer('y', '1');
    c.offer('x', '2');
    await sleep(70);
    assert.deepEqual(out.sort(), ['x=2', 'y=1']);
  });

  test('flush emits open windows immediately (nothing lost at shutdown)', () => {
    const out: number[] = [];
    const c = new Coalescer<number>({ windowMs: 10_000, emit: (_k, v) => out.push(v) });
    c.offer('k', 7);
    c.flush();
    assert.deepEqual(out, [7]);
  });

  test('counts absorbed values through onCoalesced', () => {
    let absorbed = 0;
    const c = new Coalescer<number>({ windowMs: 1000, emit: () => {}, onCoalesced: () => absorbed++ });
    for (let i = 0; i < 10; i++) c.offer('k', i);
    c.flush();
    assert.equal(absorbed, 9);
  });

  test('past maxKeys values are emitted at once instead of held', () => {
    const out: number[] = [];
    const c = new Coalescer<number>({ windowMs: 1000, maxKeys: 1, emit: (_k, v) => out.push(v) });
    c.offer('a', 1);
    c.offer('b', 2);
    assert.deepEqual(out, [2]);
    c.flush();
  });
});
