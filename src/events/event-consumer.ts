/**
 * @module events/event-consumer
 * Moves durable events from the event log into the hub. Every node runs one consumer with its
 * own consumer group (`hub-<nodeId>`), so every node sees every event and a restarted node
 * resumes after its last ack. The hub publishes each event with its event id as idempotency
 * key: with the Redis engine the first node to publish it wins cluster-wide and the others get
 * the same ack, so each client receives one copy with one offset.
 *
 * An entry is acked only after the hub accepted it. One that fails stays pending and is taken
 * again (XAUTOCLAIM) once idle for `claimIdleMs`; after `maxDeliveries` it goes to the
 * dead-letter stream. An event the hub can never accept (unknown namespace, too big) is
 * dead-lettered at once rather than retried.
 */
import { isAirwavesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import { compareIds, isNoGroupError, type EventLog, type LogEntry } from './event-log.js';
import { DEAD_LETTER_STREAM, eventFromFields, streamOf } from './publisher.js';
import { createTransportMetrics, registerCollectedGauge, type TransportMetrics } from './publisher-metrics.js';

/** The part of the hub the consumer needs (the Hub satisfies it). */
export interface EventSink {
  publish(channel: string, data: unknown, options: { idempotencyKey?: string; eachNodePublishes?: boolean }): Promise<unknown>;
}

export interface EventConsumerOptions {
  log: EventLog;
  hub: EventSink;
  nodeId: string;
  families: string[];
  logger: Logger;
  metrics?: Registry;
  /** Deliveries after which an entry is dead-lettered. Default 5. */
  maxDeliveries?: number;
  /** A pending entry idle this long is taken again. Default 5000 ms. */
  claimIdleMs?: number;
  /** XREADGROUP BLOCK. Default 1000 ms (on the in-process log only while entries are pending: see waitFor). */
  blockMs?: number;
  /** XREADGROUP COUNT. Default 200. */
  batch?: number;
  /** Dead-letter stream bound. Default 10_000. */
  deadLetterMaxLen?: number;
  /**
   * Acks are gathered and sent at most this long after the hub accepted their entries (or when a
   * batch's worth is waiting). Default 100 ms; 0 acks each batch at once.
   */
  ackDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class EventConsumer {
  readonly group: string;
  readonly consumer: string;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly log: Logger;
  private readonly metrics?: TransportMetrics;
  private readonly maxDeliveries: number;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;
  private readonly batch: number;
  private failing = false;
  private readonly ackDelayMs: number;
  /** Acks in flight, awaited by stop() so a clean stop leaves nothing pending. */
  private readonly acking = new Set<Promise<void>>();
  /** Entry ids accepted by the hub and not yet acked, per stream (see ackSoon). */
  private readonly unacked = new Map<string, string[]>();
  private ackTimer: NodeJS.Timeout | undefined;
  /** Ends the reads waiting on an in-process log with no time limit (see waitFor). */
  private stopWaiting = new AbortController();

  constructor(private readonly options: EventConsumerOptions) {
    this.group = `hub-${options.nodeId}`;
    this.consumer = options.nodeId;
    this.log = options.logger.child({ module: 'event-consumer' });
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.claimIdleMs = options.claimIdleMs ?? 5000;
    this.blockMs = options.blockMs ?? 1000;
    this.batch = options.batch ?? 200;
    this.ackDelayMs = options.ackDelayMs ?? 100;
    if (options.metrics) {
      this.metrics = createTransportMetrics(options.metrics);
      const streams = options.families.map(streamOf);
      registerCollectedGauge(options.metrics, 'event_queue_depth', "Events this node has not yet published into the hub (its group's lag plus pending)", ['stream'], async (set) => {
        for (const stream of streams) {
          const mine = (await options.log.groups(stream)).find((g) => g.name === this.group);
          if (mine) set({ stream }, (mine.lag ?? 0) + mine.pending);
        }
      });
      registerCollectedGauge(options.metrics, 'event_consumer_group_lag', 'Entries not yet delivered to each consumer group (XINFO GROUPS lag)', ['stream', 'group'], async (set) => {
        for (const stream of streams) for (const g of await options.log.groups(stream)) if (g.lag !== null) set({ stream, group: g.name }, g.lag);
      });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopWaiting = new AbortController();
    this.loops = this.options.families.map((family) => this.run(family));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopWaiting.abort();
    await Promise.all(this.loops);
    this.flushAcks();
    await Promise.all(this.acking);
  }

  /**
   * Acks later, together, and without waiting for the reply (the next read need not wait for a
   * round trip; a failed ack leaves its entries pending). Events mostly arrive one by one, so acking each read cost every node a
   * write and a wakeup per event (the XACK reply comes back on its own, ahead of the blocked
   * XREADGROUP's); gathered over ackDelayMs, it is one per interval. An entry whose ack is still
   * waiting when the node dies is pending, and goes back through XAUTOCLAIM to the same node when
   * it restarts; the hub's idempotency key absorbs the repeat.
   */
  private ackSoon(stream: string, ids: string[]): void {
    let handled = this.awaitingAck.get(stream);
    if (!handled) this.awaitingAck.set(stream, (handled = new Set()));
    for (const id of ids) handled.add(id);
    let waiting = this.unacked.get(stream);
    if (!waiting) this.unacked.set(stream, (waiting = []));
    waiting.push(...ids);
    if (this.ackDelayMs === 0 || waiting.length >= this.batch) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), this.ackDelayMs).unref();
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    for (const [stream, ids] of this.unacked) this.sendAck(stream, ids);
    this.unacked.clear();
  }

  private sendAck(stream: string, ids: string[]): void {
    const done = this.options.log
      .ack(stream, this.group, ids)
      .then(
        () => undefined,
        (err: Error) => this.log.debug({ stream, err: err.message, entries: ids.length }, 'ack failed; the entries will be claimed again'),
      )
      .finally(() => {
        this.acking.delete(done);
        // Answered: acked, or (failed) pending again and rightly claimed again.
        const handled = this.awaitingAck.get(stream);
        for (const id of ids) handled?.delete(id);
      });
    this.acking.add(done);
  }

  /**
   * Entries handled whose ack is not answered yet, per stream. An ack waits up to ackDelayMs and
   * a round trip, and meanwhile the entry is still pending: once idle for claimIdleMs a claim
   * returns it, and handling it again would publish it twice, or dead-letter it twice (seen in CI
   * with claimIdleMs 100: three dead letters for two entries).
   */
  private readonly awaitingAck = new Map<string, Set<string>>();

  /** The newest entry id this node handled, per stream: where a lost group is recreated. */
  private readonly lastHandled = new Map<string, string>();

  private async run(family: string): Promise<void> {
    const stream = streamOf(family);
    let ready = false;
    let lastClaim = 0;
    let backoff = 100;
    while (this.running) {
      try {
        if (!ready) {
          // A new group starts at the stream's end: what came before was published by the nodes
          // already running. Then take back what this node read and never acked before it died.
          await this.options.log.ensureGroup(stream, this.group, '$');
          ready = true;
          await this.handle(family, stream, await this.options.log.claimStale(stream, this.group, this.consumer, 0, 1000));
        }
        const entries = await this.options.log.readGroup(stream, this.group, this.consumer, { count: this.batch, blockMs: await this.waitFor(stream), signal: this.stopWaiting.signal });
        if (!this.running && entries.length === 0) break;
        await this.handle(family, stream, entries);
        if (Date.now() - lastClaim >= this.claimIdleMs / 2) {
          lastClaim = Date.now();
          await this.handle(family, stream, await this.options.log.claimStale(stream, this.group, this.consumer, this.claimIdleMs));
        }
        this.setFailing(false, stream);
        backoff = 100;
      } catch (err) {
        if (!this.running) break;
        if (isNoGroupError(err)) {
          // The group is gone: Redis lost the stream (restart without persistence), or another
          // node deleted it as orphaned while this one was away (orphan-groups). Recreate it after
          // the last entry handled here: in a new stream every id is newer, so everything in it is
          // read; in the old one only what this node has not published yet.
          const from = this.lastHandled.get(stream) ?? '0';
          this.log.warn({ stream, from }, 'consumer group vanished; recreating it');
          await this.options.log.ensureGroup(stream, this.group, from).catch(() => {});
          continue;
        }
        this.setFailing(true, stream, err);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  /**
   * How long a read waits for new entries. An append to the in-process log wakes the reader at
   * once and nothing else happens while the stream is quiet, so there the read waits with no
   * time limit (stop() ends it): an idle node does not wake every `blockMs` per stream. Unless
   * entries of this group are pending: those are claimed again once idle, so the loop comes
   * round every `blockMs`, as it always does on Redis (where the reads also keep the consumer's
   * idle time low for the orphan sweeper).
   */
  private async waitFor(stream: string): Promise<number> {
    if (this.options.log.kind !== 'memory') return this.blockMs;
    const mine = (await this.options.log.groups(stream)).find((g) => g.name === this.group);
    return mine && mine.pending > 0 ? this.blockMs : 0;
  }

  private setFailing(failing: boolean, stream: string, err?: unknown): void {
    if (failing === this.failing) return;
    this.failing = failing;
    if (failing) this.log.warn({ stream, err: (err as Error)?.message }, 'event log unreachable; retrying');
    else this.log.info({ stream }, 'event log reachable again');
  }

  /** Publishes entries into the hub in log order, acks what the hub accepted. */
  private async handle(family: string, stream: string, claimedOrRead: LogEntry[]): Promise<void> {
    const handled = this.awaitingAck.get(stream);
    const entries = handled?.size ? claimedOrRead.filter((e) => !handled.has(e.id)) : claimedOrRead;
    if (entries.length === 0) return;
    const newest = entries[entries.length - 1].id;
    const before = this.lastHandled.get(stream);
    if (before === undefined || compareIds(newest, before) > 0) this.lastHandled.set(stream, newest);
    const acked: string[] = [];
    let failed: { index: number; entry: LogEntry; channel: string; body: unknown; eventId: string }[] = [];
    // The publishes are issued in order in one turn, so the engine receives them in log order.
    await Promise.all(
      entries.map(async (entry, index) => {
        if (entry.deliveries > this.maxDeliveries) {
          await this.deadLetter(stream, entry, `delivered ${entry.deliveries} times`, 'max_deliveries');
          acked.push(entry.id);
          return;
        }
        let event;
        try {
          event = eventFromFields(family, entry.fields);
        } catch (err) {
          await this.deadLetter(stream, entry, (err as Error).message, 'malformed');
          acked.push(entry.id);
          return;
        }
        if (await this.deliver(stream, entry, event.channel, event.body, event.eventId)) acked.push(entry.id);
        else failed.push({ index, entry, channel: event.channel, body: event.body, eventId: event.eventId });
      }),
    );
    if (acked.length) this.ackSoon(stream, acked);
    // The hub is briefly unable (its Redis reconnecting): retry here, in log order, before
    // reading newer entries, so clients see the order of the log. After claimIdleMs the entries
    // stay pending for XAUTOCLAIM, whose delivery count leads to the dead-letter stream.
    failed.sort((x, y) => x.index - y.index);
    const giveUpAt = Date.now() + this.claimIdleMs;
    let backoff = 50;
    while (failed.length && this.running && Date.now() < giveUpAt) {
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 500);
      const still: typeof failed = [];
      for (const f of failed) {
        if (still.length === 0 && (await this.deliver(stream, f.entry, f.channel, f.body, f.eventId))) this.ackSoon(stream, [f.entry.id]);
        else still.push(f);
      }
      failed = still;
    }
  }

  /** True when the hub accepted the event (or refused it for good and it was dead-lettered). */
  private async deliver(stream: string, entry: LogEntry, channel: string, body: unknown, eventId: string): Promise<boolean> {
    try {
      // Every node's consumer publishes every event: the engine need not carry it between nodes.
      await this.options.hub.publish(channel, body, { idempotencyKey: eventId, eachNodePublishes: true });
      this.metrics?.consumed.inc({ stream });
      return true;
    } catch (err) {
      if (isAirwavesError(err) && err.httpStatus < 500) {
        await this.deadLetter(stream, entry, `${err.code}: ${err.message}`, err.code);
        return true;
      }
      this.log.debug({ err: (err as Error).message, id: entry.id }, 'hub did not accept event; retrying');
      return false;
    }
  }

  private async deadLetter(stream: string, entry: LogEntry, reason: string, code: string): Promise<void> {
    await this.options.log.append(
      DEAD_LETTER_STREAM,
      { ...entry.fields, stream, entryId: entry.id, deliveries: String(entry.deliveries), node: this.options.nodeId, reason },
      { maxLen: this.options.deadLetterMaxLen ?? 10_000 },
    );
    this.metrics?.deadLettered.inc({ stream, reason: code });
    this.log.warn({ stream, id: entry.id, reason }, 'event dead-lettered');
  }
}
