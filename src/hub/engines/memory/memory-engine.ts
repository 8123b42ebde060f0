/**
 * @module hub/engines/memory/memory-engine
 * The embedded engine: offsets and history in this process. Publishing is synchronous, so a
 * publication reaches local subscribers in the same turn it is accepted, in offset order.
 * History is a ring per channel bounded by the namespace's size and TTL; idle channels are
 * swept so memory follows the live channel set.
 */
import { channelHistory, historyFits, type ChannelHistory } from './channel-history.js';
import type { ChannelRetention, HistorySlice, HubEngine, HubMessage, MessageSink, PublishAck, PublishPayload } from '../engine.js';
import { newEpoch } from '../engine.js';

interface ChannelLog {
  epoch: string;
  top: number;
  /** Message objects, or bytes off the V8 heap when the retention says `inBuffers` (channel-history.ts). */
  ring: ChannelHistory | null;
  lastPublishAt: number;
  listening: boolean;
  /** Acks of recent idempotent publishes, oldest first (bounded). */
  seen: Map<string, PublishAck> | null;
}

const DEDUPE_WINDOW = 10_000;

export class MemoryEngine implements HubEngine {
  readonly name = 'memory' as const;
  readonly publishesSynchronously = true;
  private sink: MessageSink = () => {};
  private readonly logs = new Map<string, ChannelLog>();
  private sweepTimer?: NodeJS.Timeout;

  async start(sink: MessageSink): Promise<void> {
    this.sink = sink;
    this.sweepTimer = setInterval(() => this.sweep(), 30_000);
    this.sweepTimer.unref();
  }

  private log(channel: string, retention: ChannelRetention): ChannelLog {
    let log = this.logs.get(channel);
    if (!log) {
      log = { epoch: newEpoch(), top: 0, ring: null, lastPublishAt: 0, listening: false, seen: null };
      this.logs.set(channel, log);
    }
    if (retention.historySize > 0 && (!log.ring || !historyFits(log.ring, retention))) {
      const kept = log;
      const ring = channelHistory(retention, channel, () => kept.epoch);
      // The newest of the old history carry over (a namespace's depth or storage changed).
      if (log.ring) for (const m of log.ring.since(0, ring.capacity)) ring.append(m);
      log.ring = ring;
    }
    return log;
  }

  publish(channel: string, payload: PublishPayload, retention: ChannelRetention): PublishAck {
    const log = this.log(channel, retention);
    if (payload.idempotencyKey !== undefined) {
      const previous = log.seen?.get(payload.idempotencyKey);
      if (previous) return previous;
    }
    const ts = Date.now();
    const message: HubMessage = {
      channel,
      offset: ++log.top,
      epoch: log.epoch,
      ts,
      json: payload.json,
      binary: payload.binary,
      key: payload.key,
      publishedAt: performance.now(),
    };
    log.lastPublishAt = ts;
    log.ring?.append(message);
    if (payload.idempotencyKey !== undefined) {
      log.seen ??= new Map();
      log.seen.set(payload.idempotencyKey, { offset: message.offset, epoch: log.epoch });
      if (log.seen.size > DEDUPE_WINDOW) log.seen.delete(log.seen.keys().next().value!);
    }
    if (log.listening) this.sink(message);
    return { offset: message.offset, epoch: log.epoch };
  }

  history(channel: string, afterOffset: number, limit: number, retention: ChannelRetention): HistorySlice {
    const log = this.log(channel, retention);
    const oldestAllowed = retention.historyTtlMs > 0 ? Date.now() - retention.historyTtlMs : -Infinity;
    const kept = log.ring && afterOffset < log.top ? log.ring.since(afterOffset, limit) : [];
    const messages = oldestAllowed === -Infinity ? kept : kept.filter((m) => m.ts >= oldestAllowed);
    const first = messages[0];
    const complete = afterOffset >= log.top || (first !== undefined && first.offset === afterOffset + 1);
    return { epoch: log.epoch, top: log.top, messages, complete };
  }

  listen(channel: string, on: boolean): void {
    const log = this.logs.get(channel);
    if (log) log.listening = on;
    else if (on) this.logs.set(channel, { epoch: newEpoch(), top: 0, ring: null, lastPublishAt: 0, listening: true, seen: null });
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // Byte histories let go of their arenas now, not when the engine itself is collected.
    for (const log of this.logs.values()) log.ring?.clear();
    this.logs.clear();
  }

  /** Forgets channels nobody listens to whose history has expired or that never kept any. */
  private sweep(): void {
    const now = Date.now();
    for (const [channel, log] of this.logs) {
      if (log.listening) continue;
      if (!log.ring?.size || now - log.lastPublishAt > 10 * 60_000) this.logs.delete(channel);
    }
  }

  /** Channels currently kept (for tests and stats). */
  get channelCount(): number {
    return this.logs.size;
  }
}
