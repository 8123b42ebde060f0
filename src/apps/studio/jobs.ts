/**
 * @module apps/studio/jobs
 * Batch generation. A job (template × scenarios × count) is a row; one in-process worker runs
 * jobs oldest first, writing conversations in chunks. Each chunk and the job's progress commit
 * in one transaction, so a restart resumes exactly where the last commit left off (seeds depend
 * only on job id and position), and progress is pushed on the hub channel `studio:job:<id>`.
 *
 * An idle worker runs nothing: it waits for a signal that a job was queued. On PGlite the data
 * directory belongs to this process alone (db/data-dir-lock), so the in-process `notify()` is the
 * whole story; on PostgreSQL another process may queue jobs, so the worker also LISTENs on
 * {@link JOBS_NOTIFY_CHANNEL} and `notify()` sends a NOTIFY. A coarse, unref'd re-check on
 * PostgreSQL covers a notification lost while its listening connection was being replaced.
 */
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { HubApi } from '../../hub/hub-api.js';
import type { Logger } from '../../core/logger.js';
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
/** The PostgreSQL notification channel a queued job is announced on. */
export const JOBS_NOTIFY_CHANNEL = 'airwaves_studio_jobs';
/** On PostgreSQL, an idle worker looks at the queue this often even without a notification (ms). */
const POSTGRES_RECHECK_MS = 60_000;
/** While the LISTEN connection is down, the worker polls this often instead (ms). */
const LISTEN_DOWN_POLL_MS = 5_000;

export class JobRunner {
  private stopped = false;
  private wake?: () => void;
  /** Set by a signal that arrived while the worker was not waiting (between its query and its wait). */
  private signalled = false;
  private loop?: Promise<void>;
  private current?: { id: string; abort: AbortController };
  /** The connection LISTENing for queued jobs (PostgreSQL only); undefined while down. */
  private listener?: pg.PoolClient;

  constructor(
    private readonly deps: {
      db: Kysely<StudioDB>;
      hub: HubApi;
      generator: ConversationGenerator;
      log: Logger;
      metrics: StudioMetrics;
      /** The PostgreSQL pool (LISTEN/NOTIFY across processes); null or absent on PGlite. */
      pool?: pg.Pool | null;
    },
  ) {}

  /** Starts the worker; jobs left `running` by a previous process are picked up first. */
  start(): void {
    this.loop = (async () => {
      if (this.deps.pool) await this.listen(this.deps.pool);
      await this.run();
    })().catch((err: Error) => this.deps.log.error({ err }, 'studio job worker stopped'));
  }

  /** Tells the worker (and, on PostgreSQL, every worker sharing the database) a job was queued. */
  notify(): void {
    this.signal();
    if (this.deps.pool) {
      sql`select pg_notify(${JOBS_NOTIFY_CHANNEL}, '')`.execute(this.deps.db).catch((err: Error) => this.deps.log.warn({ err }, 'studio job NOTIFY failed'));
    }
  }

  private signal(): void {
    this.signalled = true;
    this.wake?.();
  }

  /** LISTENs on a dedicated pool connection; if it fails, the worker polls until it is back. */
  private async listen(pool: pg.Pool): Promise<void> {
    try {
      const client = await pool.connect();
      const lost = (err?: Error) => {
        if (this.listener !== client) return;
        this.listener = undefined;
        client.release(err ?? true);
        if (!this.stopped) {
          this.deps.log.warn({ err }, 'studio job LISTEN connection lost; polling until it is back');
          setTimeout(() => void this.listen(pool), LISTEN_DOWN_POLL_MS).unref();
        }
        this.signal();
      };
      client.on('notification', () => this.signal());
      client.on('error', lost);
      client.on('end', () => lost());
      await client.query(`LISTEN ${JOBS_NOTIFY_CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.deps.log.warn({ err }, 'studio job LISTEN failed; polling until it succeeds');
      if (!this.stopped) setTimeout(() => void this.listen(pool), LISTEN_DOWN_POLL_MS).unref();
    }
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
    const listener = this.listener;
    this.listener = undefined;
    if (listener) {
      await listener.query(`UNLISTEN ${JOBS_NOTIFY_CHANNEL}`).catch(() => {});
      listener.release();
    }
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

  private async runOnce(): Promise<void> {
    // Cleared before the query: a job queued after this point is either seen by it or signals again.
    this.signalled = false;
    const job = await this.deps.db
      .selectFrom('studio_generation_jobs')
      .select('id')
      .where('status', 'in', ['running', 'queued'])
      // Interrupted jobs first, then the queue in order.
      .orderBy(sql`status = 'running'`, 'desc')
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!job) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.stopped || this.signalled) return resolve();
        // PGlite: notify() is the only way a job is queued, so no timer at all. PostgreSQL: the
        // NOTIFY wakes us; the coarse re-check covers one lost while LISTEN was reconnecting.
        if (this.deps.pool) setTimeout(resolve, this.listener ? POSTGRES_RECHECK_MS : LISTEN_DOWN_POLL_MS).unref();
      });
      this.wake = undefined;
      return;
    }
    await this.runJob(job.id).catch(async (err: Error) => {
      if (this.stopped) return;
      this.deps.log.error({ err, job: job.id }, 'studio job failed');
      const row = await this.deps.db
        .updateTable('studio_generation_jobs')
        .set({ status: 'failed', error: err.message.slice(0, 500), finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', job.id)
        .where('status', '=', 'running')
        .returning(PROGRESS_COLUMNS)
        .executeTakeFirst();
      if (row) await this.publish(row);
    });
  }

  private async runJob(id: string): Promise<void> {
    const { db, generator, metrics } = this.deps;
    const job = await db
      .updateTable('studio_generation_jobs')
      .set({ status: 'running', started_at: sql<Date>`coalesce(started_at, now())`, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
    if (!job) return;
    const template = (await db.selectFrom('studio_templates').selectAll().where('id', '=', job.template_id).executeTakeFirst()) as TemplateRecord | undefined;
    if (!template) throw new Error(`template ${job.template_id} no longer exists`);
    const scenarios = job.scenario_ids.length
      ? ((await db.selectFrom('studio_scenarios').selectAll().where('id', 'in', job.scenario_ids).orderBy('name').execute()) as ScenarioRecord[])
      : [];
    if (job.scenario_ids.length && !scenarios.length) throw new Error('none of the job\'s scenarios exist any more');
    const abort = new AbortController();
    this.current = { id, abort };
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
          for (const r of results) {
            if (r.status === 'fulfilled') made.push(r.value);
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
              .set((eb) => ({ completed: eb('completed', '+', made.length), failed: eb('failed', '+', failed), updated_at: sql<Date>`now()` }))
              .where('id', '=', id)
              .where('status', '=', 'running')
              .returning(PROGRESS_COLUMNS)
              .executeTakeFirst();
            // Cancelled while this chunk was generated: roll its conversations back too.
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
          .returning(PROGRESS_COLUMNS)
          .executeTakeFirst();
        if (done) await this.publish(done);
      }
    } finally {
      this.current = undefined;
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
