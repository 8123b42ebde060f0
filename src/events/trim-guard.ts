/**
 * @module events/trim-guard
 * What trimming does with entries a consumer group has not acknowledged. A log is bounded (every
 * stream keeps about `maxLen` entries), but a plain `MAXLEN ~` trim would drop an entry that a
 * stalled group never read or never acknowledged, without a word. Both logs instead copy every
 * such entry to the dead-letter stream (`events:dead`, reason `trimmed_unacked`) and count it in
 * `events_trimmed_unacked_total{stream}` before trimming it, so nothing leaves unseen.
 */
import { prom, sharedMetric, type Registry } from '../core/metrics.js';

/** The dead-letter stream (same name as publisher.ts's DEAD_LETTER_STREAM; it is never guarded itself). */
export const TRIM_DEAD_LETTER_STREAM = 'events:dead';
/** Entries kept in the dead-letter stream. */
export const DEAD_LETTER_MAX_LEN = 10_000;

export function trimmedUnackedCounter(registry: Registry | undefined): prom.Counter<'stream'> {
  return sharedMetric(
    registry,
    'events_trimmed_unacked_total',
    (registers) =>
      new prom.Counter({
        name: 'events_trimmed_unacked_total',
        help: 'Entries trimmed from an event stream before every consumer group acknowledged them (each one copied to the dead-letter stream first)',
        labelNames: ['stream'] as const,
        registers,
      }),
  );
}

/** The dead-letter entry for `id` of `stream`, trimmed before `groups` acknowledged it. */
export function trimmedDeadLetter(stream: string, id: string, fields: Readonly<Record<string, string>>, groups: string[]): Record<string, string> {
  return { ...fields, stream, entryId: id, deliveries: '0', reason: `trimmed before acknowledged by group ${groups.join(', ')}`, code: 'trimmed_unacked' };
}

/** Compares two stream ids (`ms-seq`): negative, zero or positive. */
export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The smallest id greater than `id`. */
export function nextId(id: string): string {
  const [ms, seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}
