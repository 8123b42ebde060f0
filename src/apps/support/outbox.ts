/**
 * @module apps/support/outbox
 * The help desk's transactional outbox. A change and the event announcing it are written in one
 * transaction (`enqueue` inside the desk's transaction), so a stored message always has its event
 * and a failed emit can never report failure for stored data. The relay then hands each event to
 * the event bus (the durable log, or the hub), which dedupes by event id, so a retried relay
 * delivers once.
 *
 * The relay wakes on every local enqueue (no polling delay on the hot path) and also polls, to
 * pick up rows a crashed process or another node left behind. Rows are claimed with a short
 * lease (`FOR UPDATE SKIP LOCKED`), never inside a transaction held across the network. A node
 * relays its own rows at once and other nodes' rows only once they are `ORPHAN_AFTER_MS` old, so
 * one node's events keep their order.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { prom, sharedMetric, type Registry } from '../../core/metrics.js';
import type { Logger } from '../../core/logger.js';
import { isAirwavesError } from '../../core/errors.js';
import type { StreamEvent } from './events.js';
import type { SupportDB } from './schema.js';

export interface OutboxEmitter {
  emit(event: StreamEvent, channels: readonly string[]): Promise<void>;
}

const BATCH = 100;
const LEASE_MS = 30_000;
const ORPHAN_AFTER_MS = 10_000;
const POLL_MS = 1_000;
const MAX_BACKOFF_MS = 10_000;
/** Delivered rows are kept this long (debugging, audits), then removed by the relay. */
const KEEP_DELIVERED_MS = 24 * 3600 * 1000;

export interface OutboxMetrics {
  relayed: prom.Counter;
  failures: prom.Counter;
}

export function outboxMetrics(registry: Registry): OutboxMetrics {
  return {
    relayed: sharedMetric(registry, 'support_outbox_relayed_total', (registers) => new prom.Counter({ name: 'support_outbox_relayed_total', help: 'Help desk events relayed from the outbox to the event log', registers })),
    failures: sharedMetric(registry, 'support_outbox_relay_failures_total', (registers) => new prom.Counter({ name: 'support_outbox_relay_failures_total', help: 'Outbox relay attempts that failed (the events stay stored and are retried)', registers })),
  };
}

/** What the relay stores in `last_error`: the error code first (`engine_unavailable: …`). */
function describeFailure(err: unknown): string {
  const message = String((err as Error)?.message ?? err);
  return (isAirwavesError(err) ? `${err.code}: ${message}` : message).slice(0, 500);
}

export class SupportOutbox {
  private stopped = false;
  private wakeNow?: () => void;
  private pendingWake = false;
  private loop?: Promise<void>;
  private backoffMs = 0;
  private lastCleanup = 0;

  constructor(
    private readonly deps: { db: Kysely<SupportDB>; emitter: OutboxEmitter; nodeId: string; log: Logger; metrics: OutboxMetrics },
  ) {}

  /** Stores `event` for `channels` in the caller's transaction; the relay delivers it after commit. */
  async enqueue(tx: Transaction<SupportDB> | Kysely<SupportDB>, event: StreamEvent, channels: readonly string[]): Promise<void> {
    await tx
      .insertInto('support_outbox')
      .values({ event_id: event.eventId, origin: this.deps.nodeId, channels: JSON.stringify(channels), event: JSON.stringify(event) })
      .execute();
  }

  /** Tells the relay that rows were committed (call after the transaction). */
  wake(): void {
    this.pendingWake = true;
    this.wakeNow?.();
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops after the batch in flight; undelivered rows stay stored for the next start or another node. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeNow?.();
    await this.loop;
  }

  /** Relays every deliverable row now (tests, shutdown); returns how many were delivered. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayBatch();
      total += n;
      if (n < BATCH) return total;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.pendingWake = false;
      let delivered = 0;
      try {
        delivered = await this.relayBatch();
        this.backoffMs = 0;
        await this.cleanup();
      } catch (err) {
        this.deps.metrics.failures.inc();
        this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
        this.deps.log.warn({ err, code: isAirwavesError(err) ? err.code : undefined, retryInMs: this.backoffMs }, 'support outbox relay failed; events stay stored and are retried');
      }
      if (this.stopped) break;
      if (delivered === BATCH && this.backoffMs === 0) continue;
      if (this.pendingWake && this.backoffMs === 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.backoffMs || POLL_MS);
        timer.unref();
        this.wakeNow = () => {
          // While backing off, a wake does not cut the pause short: the log is down.
          if (this.backoffMs === 0 || this.stopped) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      this.wakeNow = undefined;
    }
  }

  /** Claims a batch (lease), emits each event in order, marks each delivered. */
  private async relayBatch(): Promise<number> {
    const { db, emitter, nodeId, metrics } = this.deps;
    const claimed = await sql<{ id: string; event: StreamEvent | string; channels: string[] | string }>`
      update support_outbox set claimed_by = ${nodeId}, claimed_until = now() + ${`${LEASE_MS} milliseconds`}::interval, attempts = attempts + 1
      where id in (
        select id from support_outbox
        where delivered_at is null
          and (claimed_until is null or claimed_until < now() or claimed_by = ${nodeId})
          and (origin = ${nodeId} or created_at < now() - ${`${ORPHAN_AFTER_MS} milliseconds`}::interval)
        order by id
        limit ${BATCH}
        for update skip locked
      )
      returning id, event, channels`.execute(db);
    const rows = claimed.rows.sort((a, b) => Number(a.id) - Number(b.id));
    let delivered = 0;
    try {
      for (const row of rows) {
        const event = typeof row.event === 'string' ? (JSON.parse(row.event) as StreamEvent) : row.event;
        const channels = typeof row.channels === 'string' ? (JSON.parse(row.channels) as string[]) : row.channels;
        await emitter.emit(event, channels);
        await db.updateTable('support_outbox').set({ delivered_at: sql<Date>`now()`, last_error: null }).where('id', '=', row.id).execute();
        metrics.relayed.inc();
        delivered++;
      }
    } catch (err) {
      // Give the rest back at once (the failed row included) instead of waiting out the lease.
      const left = rows.slice(delivered).map((r) => r.id);
      if (left.length) {
        await db
          .updateTable('support_outbox')
          .set({ claimed_until: null, last_error: describeFailure(err) })
          .where('id', 'in', left)
          .execute()
          .catch(() => {});
      }
      throw err;
    }
    return rows.length;
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    await this.deps.db
      .deleteFrom('support_outbox')
      .where('delivered_at', '<', new Date(Date.now() - KEEP_DELIVERED_MS))
      .execute();
  }

  /** Events stored but not yet relayed (metrics, tests). */
  async pending(): Promise<number> {
    const row = await this.deps.db.selectFrom('support_outbox').select((eb) => eb.fn.countAll<string>().as('n')).where('delivered_at', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
