/**
 * @module hub/slow-consumer
 * What the slow-consumer policies do to a client's queue once the client is judged slow
 * (client-session decides when: a rate judgement over a window, or the hard cap).
 *
 * - conflate: keep only the newest publication per (channel, key); replies, notices and
 *   publications without a key are kept as they are.
 * - drop-oldest: drop the oldest publications until the queue is at its targets, and put one
 *   `gap` notice per channel first, so the client learns exactly which offsets it missed and the
 *   SDK can resubscribe from history.
 *
 * Plain functions over a copy of the queue: these run once per judgement, never per delivery.
 */
import type { Outbound } from './session-types.js';
import { encodeEvent } from './frame-encoding.js';

/** The queue with only the newest publication per (channel, key) left, in order. */
export function conflated(queued: readonly Outbound[]): Outbound[] {
  const seen = new Set<string>();
  const kept: Outbound[] = [];
  for (let i = queued.length - 1; i >= 0; i--) {
    const item = queued[i];
    if (!('control' in item) && item.key !== undefined) {
      const k = `${item.channel}\u0000${item.key}`;
      if (seen.has(k)) continue;
      seen.add(k);
    }
    kept.push(item);
  }
  return kept.reverse();
}

/**
 * The queue with its oldest publications dropped until it holds at most `targetMessages` and
 * `targetBytes` (replies and notices are never dropped), led by a `gap` notice per channel that
 * lost something.
 */
export function droppedOldest(queued: readonly Outbound[], queuedBytes: number, targetMessages: number, targetBytes: number): { kept: Outbound[]; dropped: number } {
  const gaps = new Map<string, { from: number; to: number }>();
  const kept: Outbound[] = [];
  let dropped = 0;
  let bytes = queuedBytes;
  let count = queued.length;
  for (const item of queued) {
    if (!('control' in item) && (count > targetMessages || bytes > targetBytes)) {
      const gap = gaps.get(item.channel);
      if (gap) gap.to = item.offset;
      else gaps.set(item.channel, { from: item.offset, to: item.offset });
      bytes -= item.frame!.length;
      count--;
      dropped++;
      continue;
    }
    kept.push(item);
  }
  const notices: Outbound[] = [];
  for (const [channel, gap] of gaps) notices.push({ control: true, frame: encodeEvent({ channel, event: 'gap', from: gap.from, to: gap.to }) });
  return { kept: notices.length > 0 ? [...notices, ...kept] : kept, dropped };
}
