/**
 * @module apps/studio/jobs
 * Batch generation. A job (template × scenarios × count) is a row; one worker per node runs
 * jobs oldest first, writing conversations in chunks. Each chunk and the job's progress commit
 * in one transaction, so a restart resumes exactly where the last commit left off (seeds depend
 * only on job id and position), and progress is pushed on the hub channel `studio:job:<id>`.
 *
 * Several nodes may share one PostgreSQL: a job is claimed with `FOR UPDATE SKIP LOCKED` and a
 * lease (`claimed_by`, `lease_until`) that the holder renews while it works. A node that dies
 * stops renewing and another node takes the job over once the lease expired. Every chunk commits
 * only while this node still holds the claim (the progress update is fenced on `claimed_by`), and
 * (job, position) is unique in the database, so no output is ever written twice.
 *
 * An idle worker waits on a notification, not a poll. On PGlite the data directory belongs to
 * this process alone (db/data-dir-lock), so no other node can queue a job or hold a lease, and the
 * in-process `notify()` is the only wake-up it needs. On PostgreSQL every node LISTENs on
 * `airwaves_studio_jobs`, and a node that queues a job or hands one back NOTIFYs it, so an idle
 * node wakes the moment there is work anywhere. The lease stays for safety: a node that dies
 * holding a job sends nothing, so an idle worker also re-checks once per lease period (the job is
 * not claimable before its lease ran out anyway), and after its listening connection was lost.
 */
import { sql, type Kysely } from 'kysely';
import type { HubApi } from '../../hub/hub-api.js';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/database.js';
import { listenForNotifications } from '../../db/notifications.js';
import type { ConversationGenerator, ScenarioRecord, TemplateRecord } from './generator.js';
import { insertConversations } from './store.js';
import type { StudioMetrics } from './observability.js';
import type { GeneratedConversation, JobStatus, StudioDB } from './types.js';

class CancelledChunk extends Error {}

export const jobChannel = (id: string) => `studio:job:${id}`;

export interface JobProgress {
  id: string;
  status: JobStatus;
  requested: number;
  completed: number;
  failed: number;
  error: string | null;
}

/** What a progress message carries (see publish), as returned by every job update. */
const PROGRESS_COLUMNS = ['id', 'status', 'requested', 'completed', 'failed', 'error'] as const;

const CHUNK = 25;
/** Concurrent generator calls within a chunk (matters for a remote LLM, not the offline writer). */
const PARALLEL = 4;
/** A job fails after this many consecutive chunks in which every conversation failed. */
const MAX_FAILED_CHUNKS = 3;
/** How long a claim lasts without renewal; the holder renews it every third of this. */
export const DEFAULT_LEASE_MS = 30_000;
/** The PostgreSQL notification channel a node NOTIFYs when it queues a job or hands one back. */
export const JOB_NOTIFY_CHANNEL = 'airwaves_studio_jobs';

export class JobRunner {
  private stopped = false;
  private wake?: () => void;
  /** Set by a signal that arrived while the worker was not waiting (between its claim and its wait). */
  private signalled = false;
  private loop?: Promise<void>;
  private current?: { id: string; abort: AbortController };

  private readonly leaseMs: number;
  private stopListening?: () => Promise<void>;
  /** Wake-ups that came from other nodes' NOTIFY (and our own, echoed): for tests and metrics. */
  notificationsReceived = 0;

  constructor(
    private readonly deps: { db: Kysely<StudioDB>; hub: HubApi; generator: ConversationGenerator; log: Logger; metrics: StudioMetrics; nodeId: string; leaseMs?: number;
      /** The database, when other processes may share it (PostgreSQL): the worker LISTENs and NOTIFYs on it. */
      shared?: Database<StudioDB> },
  ) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private lease() {
    return sql<Date>`now() + ${`${this.leaseMs} milliseconds`}::interval`;
  }

  /**
   * Starts the worker (on PostgreSQL, once it listens for other nodes' jobs); jobs left `running`
   * by a previous process are picked up first.
   */
  async start(): Promise<void> {
    const shared = this.deps.shared;
    if (shared) {
      this.stopListening = await listenForNotifications(
        shared,
        JOB_NOTIFY_CHANNEL,
        {
          onNotification: () => {
            this.notificationsReceived++;
            this.signal();
          },
          onReconnect: () => this.signal(),
        },
        this.deps.log,
      );
    }
    this.loop = this.run().catch((err: Error) => this.deps.log.error({ err }, 'studio job worker stopped'));
  }

  /** Tells the worker a job was queued here; on PostgreSQL every other node's worker too. */
  notify(): void {
    this.signal();
    this.announce();
  }

  private signal(): void {
    this.signalled = true;
    this.wake?.();
  }

  /** NOTIFY the other nodes (PostgreSQL only): there is a job to claim. */
  private announce(): void {
    if (!this.deps.shared) return;
    sql`select pg_notify(${JOB_NOTIFY_CHANNEL}, ${this.deps.nodeId})`
      .execute(this.deps.db)
      .catch((err: Error) => this.deps.log.warn({ err }, 'could not notify the other nodes of a job; they find it within a lease period'));
  }

  async cancel(id: string): Promise<JobProgress | null> {
    const row = await this.deps.db
      .updateTable('studio_generation_jobs')
      .set({ status: 'cancelled', finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returning(PROGRESS_COLUMNS)
      .executeTakeFirst();
    if (this.current?.id === id) this.current.abort.abort();
    if (row) await this.publish(row);
    return row ?? null;
  }

  /** Stops after the chunk in flight; its job stays `running` and resumes on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort.abort();
    this.wake?.();
    await this.loop;
    await this.stopListening?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.runOnce().catch(async (err: Error) => {
        // A database hiccup must not end the worker: log, back off, try again.
        this.deps.log.error({ err }, 'studio job worker error');
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      });
    }
  }

  /**
   * Claims the next job: one left by this node (a restart), one whose holder's lease expired
   * (that node died), else the oldest queued one. SKIP LOCKED: two nodes claiming at the same
   * moment take different jobs instead of waiting for each other.
   */
  private async claim() {
    const { db, nodeId } = this.deps;
    const { rows } = await sql<{ id: string }>`
      update studio_generation_jobs
      set status = 'running', claimed_by = ${nodeId}, lease_until = ${this.lease()},
          started_at = coalesce(started_at, now()), updated_at = now()
      where id = (
        select id from studio_generation_jobs
        where status = 'queued'
           or (status = 'running' and (claimed_by is null or claimed_by = ${nodeId} or lease_until is null or lease_until < now()))
        -- Interrupted jobs first, then the queue in order.
        order by (status = 'running') desc, created_at
        limit 1
        for update skip locked
      )
      returning id`.execute(db);
    return rows[0]?.id;
  }

  private async runOnce(): Promise<void> {
    // Cleared before the claim: a job queued after this point is either claimed by it or signals again.
    this.signalled = false;
    const id = await this.claim();
    if (!id) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.stopped || this.signalled) return resolve();
        // Shared PostgreSQL only: a node that died holding a job notifies nobody; its lease is
        // claimable once it ran out, so one look per lease period finds it (coarse, unref'd).
        if (this.deps.shared) setTimeout(resolve, this.leaseMs).unref();
      });
      this.wake = undefined;
      return;
    }
    const job = { id };
    await this.runJob(job.id).catch(async (err: Error) => {
      if (this.stopped) return;
      this.deps.log.error({ err, job: job.id }, 'studio job failed');
      const row = await this.deps.db
        .updateTable('studio_generation_jobs')
        .set({ status: 'failed', error: err.message.slice(0, 500), finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', job.id)
        .where('status', '=', 'running')
        .where('claimed_by', '=', this.deps.nodeId)
        .returning(PROGRESS_COLUMNS)
        .executeTakeFirst();
      if (row) await this.publish(row);
    });
  }

  private async runJob(id: string): Promise<void> {
    const { db, generator, metrics, nodeId } = this.deps;
    const job = await db.selectFrom('studio_generation_jobs').selectAll().where('id', '=', id).where('claimed_by', '=', nodeId).where('status', '=', 'running').executeTakeFirst();
    if (!job) return;
    const template = (await db.selectFrom('studio_templates').selectAll().where('id', '=', job.template_id).executeTakeFirst()) as TemplateRecord | undefined;
    if (!template) throw new Error(`template ${job.template_id} no longer exists`);
    const scenarios = job.scenario_ids.length
      ? ((await db.selectFrom('studio_scenarios').selectAll().where('id', 'in', job.scenario_ids).orderBy('name').execute()) as ScenarioRecord[])
      : [];
    if (job.scenario_ids.length && !scenarios.length) throw new Error('none of the job\'s scenarios exist any more');
    const abort = new AbortController();
    this.current = { id, abort };
    // Renew the lease while working; a lost claim (another node took over) stops this run.
    const renew = setInterval(() => {
      db.updateTable('studio_generation_jobs')
        .set({ lease_until: this.lease() })
        .where('id', '=', id)
        .where('claimed_by', '=', nodeId)
        .where('status', '=', 'running')
        .executeTakeFirst()
        .then((r) => {
          if (Number(r.numUpdatedRows) === 0) abort.abort();
        })
        .catch((err: Error) => this.deps.log.warn({ err, job: id }, 'could not renew the job lease'));
    }, Math.max(100, this.leaseMs / 3));
    renew.unref();
    let position = job.completed + job.failed;
    let failedChunks = 0;
    await this.publish(job);
    try {
      while (position < job.requested && !this.stopped && !abort.signal.aborted) {
        // Embedded PGlite answers without real I/O: without a macrotask turn here the loop would
        // keep the event loop to itself and HTTP requests (a cancel, the UI) would wait for the job.
        await new Promise((resolve) => setImmediate(resolve));
        const end = Math.min(job.requested, position + CHUNK);
        const made: GeneratedConversation[] = [];
        let failed = 0;
        let lastError = '';
        for (let i = position; i < end; i += PARALLEL) {
          const batch = Array.from({ length: Math.min(PARALLEL, end - i) }, (_, k) => i + k);
          const results = await Promise.allSettled(
            batch.map((index) => generator.generate({ jobId: id, index, template, scenario: scenarios.length ? scenarios[index % scenarios.length] : null }, abort.signal)),
          );
          for (const [k, r] of results.entries()) {
            if (r.status === 'fulfilled') made.push({ ...r.value, jobPosition: batch[k] });
            else {
              failed++;
              lastError = (r.reason as Error).message;
            }
          }
        }
        if (abort.signal.aborted) break;
        failedChunks = made.length ? 0 : failedChunks + 1;
        if (failedChunks >= MAX_FAILED_CHUNKS) throw new Error(`generator failed ${MAX_FAILED_CHUNKS} chunks in a row: ${lastError}`);
        const progress = await db
          .transaction()
          .execute(async (tx) => {
            await insertConversations(tx, made);
            const row = await tx
              .updateTable('studio_generation_jobs')
              .set((eb) => ({ completed: eb('completed', '+', made.length), failed: eb('failed', '+', failed), updated_at: sql<Date>`now()`, lease_until: this.lease() }))
              .where('id', '=', id)
              .where('status', '=', 'running')
              // Fenced: only while this node still holds the job, at the position it started from.
              .where('claimed_by', '=', nodeId)
              .where(sql<boolean>`completed + failed = ${position}`)
              .returning(PROGRESS_COLUMNS)
              .executeTakeFirst();
            // Cancelled, or taken over by another node, while this chunk was generated: roll its
            // conversations back too.
            if (!row) throw new CancelledChunk();
            return row;
          })
          .catch((err: unknown) => {
            if (err instanceof CancelledChunk) return null;
            throw err;
          });
        if (!progress) break;
        metrics.jobsProgress.inc({ generator: generator.name, outcome: 'ok' }, made.length);
        if (failed) metrics.jobsProgress.inc({ generator: generator.name, outcome: 'failed' }, failed);
        position = end;
        await this.publish(progress);
      }
      if (position >= job.requested && !this.stopped) {
        const done = await db
          .updateTable('studio_generation_jobs')
          .set({ status: 'completed', finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
          .where('id', '=', id)
          .where('status', '=', 'running')
          .where('claimed_by', '=', nodeId)
          .returning(PROGRESS_COLUMNS)
          .executeTakeFirst();
        if (done) await this.publish(done);
      }
    } finally {
      clearInterval(renew);
      this.current = undefined;
      // A clean stop hands the job back at once instead of making other nodes wait for the lease.
      if (this.stopped) {
        await db
          .updateTable('studio_generation_jobs')
          .set({ claimed_by: null, lease_until: null })
          .where('id', '=', id)
          .where('claimed_by', '=', nodeId)
          .where('status', '=', 'running')
          .execute()
          .then(() => this.announce())
          .catch((err: Error) => this.deps.log.warn({ err, job: id }, 'could not hand the job back'));
      }
    }
  }

  private async publish(p: JobProgress): Promise<void> {
    const { id, status, requested, completed, failed, error } = p;
    try {
      await this.deps.hub.publish(jobChannel(id), { id, status, requested, completed, failed, error }, { key: 'progress' });
    } catch (err) {
      this.deps.log.warn({ err, job: id }, 'could not publish job progress');
    }
  }
}
