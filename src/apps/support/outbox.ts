/**
 * @module apps/support/outbox
 * The help desk's transactional outbox. A change and the event announcing it are written in one
 * transaction (`enqueue` inside the desk's transaction), so a stored message always has its event
 * and a failed emit can never report failure for stored data.
 *
 * Two ways out of the table, one relay loop (so one node's events never race each other):
 * - **At commit** (the hot path): the desk hands the committed rows to the relay (`committed`),
 *   which appends them to the event log at once: no poll wait and no claim query between the
 *   commit and the append. Rows of different rooms are appended side by side, a room's in order.
 *   They are marked delivered afterwards, in one update per batch, off the path.
 * - **By polling** (the safety net, every `pollMs`): rows nobody handed over: left by a crash
 *   between commit and append, by a failed append (the relay backs off, then drains the table
 *   in order before it takes the hot path again), or by another node that went away. Rows are
 *   claimed with a short lease (`FOR UPDATE SKIP LOCKED`), never inside a transaction held
 *   across the network. A node takes its own rows, and other nodes' rows only once they are
 *   `ORPHAN_AFTER_MS` old. On the embedded database (one process holds it) nothing can appear
 *   in the table that this relay did not see written: once a scan that saw every earlier write
 *   comes back empty, the next waits for a write, a wake or `EMBEDDED_IDLE_SCAN_MS`, so an idle
 *   node scans once a minute, not every `pollMs`.
 *
 * The event bus's hub publish dedupes by event id, so the rare row relayed twice (its
 * delivered mark failed to save) reaches clients once.
 */
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import { prom, sharedMetric, type Registry } from '../../core/metrics.js';
import type { Logger } from '../../core/logger.js';
import { isAirwavesError } from '../../core/errors.js';
import { RingBuffer } from '../../core/ring-buffer.js';
import type { StreamEvent } from './events.js';
import type { SupportDB } from './schema.js';

export interface OutboxEmitter {
  emit(event: StreamEvent, channels: readonly string[]): Promise<void>;
}

/** A row written by `enqueue`: what the desk hands to the relay once its transaction committed. */
export interface OutboxEntry {
  id: string;
  event: StreamEvent;
  channels: readonly string[];
}

const BATCH = 100;
const LEASE_MS = 30_000;
const ORPHAN_AFTER_MS = 10_000;
/**
 * While the hot path runs, the poll leaves this node's rows younger than this alone: they are
 * on their way (handed over a moment after commit). Older ones were never handed over.
 */
const HANDOFF_GRACE_MS = 2_000;
/** Rows waiting on the hot path at most; beyond, they take the poll (stored all the same). */
const MAX_HANDED = 10_000;
const MAX_BACKOFF_MS = 10_000;
/** Embedded database, nothing written since an empty scan: the safety net's coarse period. */
const EMBEDDED_IDLE_SCAN_MS = 60_000;
/** Delivered rows are kept this long (debugging, audits), then removed by the relay. */
const KEEP_DELIVERED_MS = 24 * 3600 * 1000;

export interface OutboxMetrics {
  relayed: prom.Counter;
  polled: prom.Counter;
  failures: prom.Counter;
  scans: prom.Counter;
}

export function outboxMetrics(registry: Registry): OutboxMetrics {
  return {
    relayed: sharedMetric(registry, 'support_outbox_relayed_total', (registers) => new prom.Counter({ name: 'support_outbox_relayed_total', help: 'Help desk events relayed from the outbox to the event log', registers })),
    polled: sharedMetric(
      registry,
      'support_outbox_polled_total',
      (registers) => new prom.Counter({ name: 'support_outbox_polled_total', help: 'Of those, events the relay found by polling its table rather than being handed them at commit (after a crash, a failed append, or another node\'s orphans)', registers }),
    ),
    scans: sharedMetric(registry, 'support_outbox_scans_total', (registers) => new prom.Counter({ name: 'support_outbox_scans_total', help: 'Scans of the outbox table for events nobody handed the relay (every poll period on PostgreSQL; on the embedded database only after a write)', registers })),
    failures: sharedMetric(registry, 'support_outbox_relay_failures_total', (registers) => new prom.Counter({ name: 'support_outbox_relay_failures_total', help: 'Outbox relay attempts that failed (the events stay stored and are retried)', registers })),
  };
}

/** What the relay stores in `last_error`: the error code first (`engine_unavailable: …`). */
function describeFailure(err: unknown): string {
  const message = String((err as Error)?.message ?? err);
  return (isAirwavesError(err) ? `${err.code}: ${message}` : message).slice(0, 500);
}

export interface SupportOutboxDeps {
  db: Kysely<SupportDB>;
  emitter: OutboxEmitter;
  nodeId: string;
  log: Logger;
  metrics: OutboxMetrics;
  /** How often the table is scanned for rows nobody handed over (AIRWAVES_SUPPORT_OUTBOX_POLL_MS). */
  pollMs: number;
  /** Other nodes write the table too (PostgreSQL): scan every `pollMs` even when this node wrote nothing. */
  shared: boolean;
}

export class SupportOutbox {
  private stopped = false;
  private wakeNow?: () => void;
  private loop?: Promise<void>;
  private backoffMs = 0;
  private lastCleanup = 0;
  /** Committed rows handed over at commit, by id in commit order, until their append is over. */
  private readonly handed = new Map<string, OutboxEntry>();
  /** Appended rows whose delivered mark is being saved: the poll leaves them alone. */
  private readonly marking = new Set<string>();
  private marks: Promise<void> = Promise.resolve();
  /**
   * The last rows the poll relayed (oldest evicted first): a row the poll claimed just before its
   * commit handed it over is not appended twice. A handover follows its commit at once, so a
   * window of a few batches is enough.
   */
  private readonly recentlyPolled = new Set<string>();
  private readonly recentlyPolledOrder = new RingBuffer<string>(4 * BATCH);
  /**
   * Rows may wait in the table that the hot path would overtake (at start, after a failure):
   * handed rows wait until the scan has relayed those.
   */
  private backlog = true;
  private pollDue = true;
  private nextPollAt = 0;
  /** When a row was last written on this node (embedded database: only such a row can a scan find). */
  private lastWriteAt = 0;

  constructor(private readonly deps: SupportOutboxDeps) {}

  /** Stores `event` for `channels` in the caller's transaction; hand the entry to `committed` after commit. */
  async enqueue(tx: Transaction<SupportDB> | Kysely<SupportDB>, event: StreamEvent, channels: readonly string[]): Promise<OutboxEntry> {
    this.noteWrite();
    const row = await tx.insertInto('support_outbox').values(this.row(event, channels)).returning('id').executeTakeFirstOrThrow();
    return { id: String(row.id), event, channels };
  }

  /** The outbox row of `event`, for a caller that writes it in its own statement (desk.ts's one-statement post). */
  row(event: StreamEvent, channels: readonly string[]): Insertable<SupportDB['support_outbox']> {
    this.noteWrite();
    return { event_id: event.eventId, origin: this.deps.nodeId, channels: JSON.stringify(channels), event: JSON.stringify(event) };
  }

  /** Hands rows whose transaction committed to the relay, which appends them at once. */
  committed(entries: readonly OutboxEntry[]): void {
    if (entries.length === 0 || this.stopped) return;
    for (const entry of entries) {
      if (this.handed.size >= MAX_HANDED) {
        // Stored all the same: the table's scan takes the rest.
        this.backlog = true;
        this.pollDue = true;
        break;
      }
      this.handed.set(entry.id, entry);
    }
    this.wakeNow?.();
  }

  /** Asks the relay to scan the table now (rows written elsewhere, an event log that is back). */
  wake(): void {
    this.pollDue = true;
    this.wakeNow?.();
  }

  start(): void {
    this.loop = this.run();
  }

  /**
   * Stops after the batch in flight and a last append of what was handed over (best effort: the
   * log may be closing too); undelivered rows stay stored for the next start or another node.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeNow?.();
    await this.loop;
    if (this.loop && !this.backlog && this.handed.size > 0) await this.relayHanded().catch(() => {});
    await this.marks;
  }

  /** A row is about to be written: a relay resting on the idle period scans every `pollMs` again. */
  private noteWrite(): void {
    this.lastWriteAt = Date.now();
    if (this.nextPollAt > this.lastWriteAt + this.deps.pollMs) {
      this.nextPollAt = this.lastWriteAt + this.deps.pollMs;
      this.wakeNow?.(); // re-arms the wait with the new deadline
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.handed.size > 0 && !this.backlog) await this.relayHanded();
        else if (this.pollDue || Date.now() >= this.nextPollAt) await this.poll();
        this.backoffMs = 0;
      } catch (err) {
        this.deps.metrics.failures.inc();
        this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
        // Whatever was handed over waits in the table now; the poll drains it in order.
        this.backlog = true;
        this.pollDue = true;
        this.deps.log.warn({ err, code: isAirwavesError(err) ? err.code : undefined, retryInMs: this.backoffMs }, 'support outbox relay failed; events stay stored and are retried');
      }
      if (this.stopped) break;
      if (this.backoffMs === 0 && ((this.handed.size > 0 && !this.backlog) || this.pollDue)) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.backoffMs || Math.max(0, this.nextPollAt - Date.now()));
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

  /**
   * The hot path: appends the handed rows, a room's in order and rooms side by side, then marks
   * them delivered off the path. On a failure the rest goes back to the table (the poll's).
   */
  private async relayHanded(): Promise<void> {
    const batch: OutboxEntry[] = [];
    for (const entry of this.handed.values()) {
      if (batch.length === BATCH) break;
      batch.push(entry);
    }
    const rooms = new Map<string, OutboxEntry[]>();
    for (const entry of batch) {
      if (this.recentlyPolled.has(entry.id)) continue;
      const room = rooms.get(entry.event.roomId);
      if (room) room.push(entry);
      else rooms.set(entry.event.roomId, [entry]);
    }
    const appended: string[] = [];
    let failure: { err: unknown; id: string } | undefined;
    await Promise.all(
      [...rooms.values()].map(async (entries) => {
        for (const entry of entries) {
          if (failure) return;
          try {
            await this.deps.emitter.emit(entry.event, entry.channels);
            appended.push(entry.id);
          } catch (err) {
            failure ??= { err, id: entry.id };
            return;
          }
        }
      }),
    );
    for (const entry of batch) this.handed.delete(entry.id);
    this.markDelivered(appended, false);
    if (!failure) return;
    const done = new Set(appended);
    const left = [...batch.filter((e) => !done.has(e.id) && !this.recentlyPolled.has(e.id)), ...this.handed.values()].map((e) => e.id);
    this.handed.clear();
    await this.release(left, failure.err, failure.id);
    throw failure.err;
  }

  /** Saves the delivered mark of appended rows, one update per batch, without holding up the next append. */
  private markDelivered(ids: string[], polled: boolean): void {
    if (ids.length === 0) return;
    for (const id of ids) this.marking.add(id);
    const { db, metrics, log } = this.deps;
    this.marks = this.marks
      .then(() => db.updateTable('support_outbox').set({ delivered_at: sql<Date>`now()`, last_error: null }).where('id', 'in', ids).execute())
      .then(
        () => {
          metrics.relayed.inc(ids.length);
          if (polled) metrics.polled.inc(ids.length);
        },
        // The rows stay undelivered and the poll appends them again; the hub dedupes by event id.
        (err: unknown) => log.warn({ err, rows: ids.length }, 'support outbox could not mark appended events delivered; they will be relayed again'),
      )
      .finally(() => {
        for (const id of ids) this.marking.delete(id);
      });
  }

  /**
   * Gives rows back at once (no lease to wait out), with the reason the append failed. `attempted`
   * is a handed row whose append failed: a claim counts the poll's attempts, this counts the hot path's.
   */
  private async release(ids: string[], err: unknown, attempted?: string): Promise<void> {
    if (ids.length === 0) return;
    const { db } = this.deps;
    await db
      .updateTable('support_outbox')
      .set((eb) => ({ claimed_until: null, last_error: describeFailure(err), attempts: attempted === undefined ? eb.ref('attempts') : sql<number>`case when id = ${attempted} then attempts + 1 else attempts end` }))
      .where('id', 'in', ids)
      .execute()
      .catch(() => {});
  }

  /** One scan of the table; ends the backlog once the table holds nothing older than what was handed over. */
  private async poll(): Promise<void> {
    this.pollDue = false;
    this.deps.metrics.scans.inc();
    const startedAt = Date.now();
    this.nextPollAt = startedAt + this.deps.pollMs;
    const { claimed, relayed } = await this.relayBatch();
    if (claimed === BATCH && relayed > 0) this.pollDue = true;
    else this.backlog = false;
    // Embedded, found nothing, and every row written before was old enough for this scan to take
    // (a row's created_at is its transaction's start, before enqueue noted the write): the table
    // holds nothing for the relay until the next write, which brings the pollMs period back.
    const sawEveryWrite = startedAt - this.lastWriteAt > HANDOFF_GRACE_MS;
    if (!this.deps.shared && claimed === 0 && !this.pollDue && sawEveryWrite && this.nextPollAt === startedAt + this.deps.pollMs) {
      this.nextPollAt = startedAt + Math.max(this.deps.pollMs, EMBEDDED_IDLE_SCAN_MS);
    }
    await this.cleanup();
  }

  /**
   * Claims a batch (lease), appends in order each row nobody handed over (the handed ones are on
   * their way), marks them delivered; returns how many rows it claimed and how many it relayed.
   */
  private async relayBatch(): Promise<{ claimed: number; relayed: number }> {
    const { db, emitter, nodeId } = this.deps;
    const ownAfterMs = this.backlog ? 0 : HANDOFF_GRACE_MS;
    const claimed = await sql<{ id: string; event: StreamEvent | string; channels: string[] | string }>`
      update support_outbox set claimed_by = ${nodeId}, claimed_until = now() + ${`${LEASE_MS} milliseconds`}::interval, attempts = attempts + 1
      where id in (
        select id from support_outbox
        where delivered_at is null
          and (claimed_until is null or claimed_until < now() or claimed_by = ${nodeId})
          and ((origin = ${nodeId} and created_at <= now() - ${`${ownAfterMs} milliseconds`}::interval)
            or created_at < now() - ${`${ORPHAN_AFTER_MS} milliseconds`}::interval)
        order by id
        limit ${BATCH}
        for update skip locked
      )
      returning id, event, channels`.execute(db);
    const rows = claimed.rows
      .map((r) => ({ ...r, id: String(r.id) }))
      .filter((r) => !this.handed.has(r.id) && !this.marking.has(r.id))
      .sort((a, b) => Number(a.id) - Number(b.id));
    const appended: string[] = [];
    try {
      for (const row of rows) {
        const event = typeof row.event === 'string' ? (JSON.parse(row.event) as StreamEvent) : row.event;
        const channels = typeof row.channels === 'string' ? (JSON.parse(row.channels) as string[]) : row.channels;
        await emitter.emit(event, channels);
        appended.push(row.id);
        this.rememberPolled(row.id);
      }
    } catch (err) {
      // Give the rest back at once (the failed row included) instead of waiting out the lease.
      await this.release(rows.slice(appended.length).map((r) => r.id), err);
      throw err;
    } finally {
      this.markDelivered(appended, true);
    }
    return { claimed: claimed.rows.length, relayed: rows.length };
  }

  private rememberPolled(id: string): void {
    this.recentlyPolled.add(id);
    const evicted = this.recentlyPolledOrder.push(id);
    if (evicted !== undefined) this.recentlyPolled.delete(evicted);
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
