/**
 * @module hub/engines/memory/memory-engine
 * The embedded engine: offsets and history in this process. Publishing is synchronous, so a
 * publication reaches local subscribers in the same turn it is accepted, in offset order.
 * History is a ring per channel bounded by the namespace's size and TTL; idle channels are
 * swept so memory follows the live channel set.
 */
import { RingBuffer } from '../../../core/ring-buffer.js';
import { ByteHistoryRing } from './byte-ring.js';
import type { ChannelRetention, HistorySlice, HubEngine, HubMessage, MessageSink, PublishAck, PublishPayload } from '../engine.js';
import { newEpoch } from '../engine.js';

interface ChannelLog {
  epoch: string;
  top: number;
  /** Message objects, or bytes off the V8 heap when the retention says `inBuffers` (byte-ring.ts). */
  ring: RingBuffer<HubMessage> | ByteHistoryRing | null;
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
    const inBuffers = retention.inBuffers === true;
    if (retention.historySize > 0 && (!log.ring || log.ring.capacity !== retention.historySize || log.ring instanceof ByteHistoryRing !== inBuffers)) {
      const kept = log;
      const ring = inBuffers ? new ByteHistoryRing(retention.historySize, channel, () => kept.epoch) : new RingBuffer<HubMessage>(retention.historySize);
      if (log.ring) for (const m of log.ring) ring.push(m);
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
    log.ring?.push(message);
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
    const messages: HubMessage[] = [];
    const ring = log.ring;
    const oldestAllowed = retention.historyTtlMs > 0 ? Date.now() - retention.historyTtlMs : -Infinity;
    if (ring && afterOffset < log.top) {
      // Offsets in the ring are contiguous up to the top, so the start index is computed, not
      // searched; and only the newest `limit` are read (a byte ring decodes what it reads).
      const oldestOffset = log.top - ring.size + 1;
      for (let i = Math.max(0, afterOffset + 1 - oldestOffset, ring.size - limit); i < ring.size; i++) {
        const m = ring.at(i)!;
        if (m.ts >= oldestAllowed) messages.push(m);
      }
    }
    const trimmed = messages.length > limit ? messages.slice(messages.length - limit) : messages;
    const first = trimmed[0];
    const complete = afterOffset >= log.top || (first !== undefined && first.offset === afterOffset + 1);
    return { epoch: log.epoch, top: log.top, messages: trimmed, complete };
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
    this.logs.clear();
  }

  /** Forgets channels nobody listens to whose history has expired or that never kept any. */
  private sweep(): void {
    const now = Date.now();
    for (const [channel, log] of this.logs) {
      if (log.listening) continue;
      const newest = log.ring?.peekNewest();
      if (!newest || now - log.lastPublishAt > 10 * 60_000) this.logs.delete(channel);
    }
  }

  /** Channels currently kept (for tests and stats). */
  get channelCount(): number {
    return this.logs.size;
  }
}
