/**
 * @module apps/live/store
 * Reads and writes of the live schema. Stream keys are 32 random bytes shown once; only their
 * SHA-256 is stored, so a leaked database does not let anyone publish. Lifecycle transitions are
 * single conditional UPDATEs (`where status = …`), so two ingest paths racing on one stream
 * cannot both win.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { StreamStatus } from './migrations.js';
import type { LiveDB, SampleView, StreamKeyView } from './types.js';

export type StreamRow = Selectable<LiveDB['live_streams']>;

/** A viewer joining (open) or leaving (close) at `at`. */
export interface ViewerSessionEvent {
  streamId: string;
  viewer: string;
  transport: 'ws' | 'hls';
  at: Date;
}
type KeyRow = Selectable<LiveDB['live_stream_keys']>;

export const KEY_PREFIX = 'live_';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function newKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function keyView(row: KeyRow): StreamKeyView {
  return { id: row.id, owner: row.owner, label: row.label, prefix: row.key_prefix, createdAt: iso(row.created_at)!, rotatedAt: iso(row.rotated_at), revokedAt: iso(row.revoked_at) };
}

export class LiveStore {
  constructor(readonly db: Kysely<LiveDB>) {}

  async createKey(owner: string, label: string): Promise<{ view: StreamKeyView; key: string }> {
    const key = newKey();
    const row = await this.db.insertInto('live_stream_keys').values({ owner, label, key_hash: hashKey(key), key_prefix: key.slice(0, KEY_PREFIX.length + 4) }).returningAll().executeTakeFirstOrThrow();
    return { view: keyView(row), key };
  }

  /** A new secret for the same key id (streams keep their key); the old secret stops working at once. */
  async rotateKey(id: string): Promise<{ view: StreamKeyView; key: string } | null> {
    const key = newKey();
    const row = await this.db
      .updateTable('live_stream_keys')
      .set({ key_hash: hashKey(key), key_prefix: key.slice(0, KEY_PREFIX.length + 4), rotated_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row ? { view: keyView(row), key } : null;
  }

  async revokeKey(id: string): Promise<StreamKeyView | null> {
    const row = await this.db.updateTable('live_stream_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
    return row ? keyView(row) : null;
  }

  async getKey(id: string): Promise<KeyRow | undefined> {
    return this.db.selectFrom('live_stream_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listKeys(owner: string | null): Promise<StreamKeyView[]> {
    let q = this.db.selectFrom('live_stream_keys').selectAll().orderBy('created_at', 'desc').limit(200);
    if (owner) q = q.where('owner', '=', owner);
    return (await q.execute()).map(keyView);
  }

  /** The usable key whose secret is `key`, or undefined (unknown, rotated away or revoked). */
  async findKey(key: string): Promise<KeyRow | undefined> {
    return this.db.selectFrom('live_stream_keys').selectAll().where('key_hash', '=', hashKey(key)).where('revoked_at', 'is', null).executeTakeFirst();
  }

  async createStream(keyId: string, owner: string, title: string): Promise<StreamRow> {
    return this.db.insertInto('live_streams').values({ key_id: keyId, owner, title }).returningAll().executeTakeFirstOrThrow();
  }

  /**
   * PENDING → ACTIVE for the key's oldest pending stream, or a new ACTIVE stream when none is
   * pending. Null when the key already has an ACTIVE stream (one broadcast per key at a time).
   */
  async startStream(key: KeyRow, ingest: 'embedded' | 'nginx'): Promise<StreamRow | null> {
    return this.db.transaction().execute(async (tx) => {
      const active = await tx.selectFrom('live_streams').select('id').where('key_id', '=', key.id).where('status', '=', 'ACTIVE').executeTakeFirst();
      if (active) return null;
      const pending = await tx.selectFrom('live_streams').select('id').where('key_id', '=', key.id).where('status', '=', 'PENDING').orderBy('created_at').limit(1).executeTakeFirst();
      const now = new Date();
      if (pending) {
        const row = await tx.updateTable('live_streams').set({ status: 'ACTIVE', started_at: now, ingest }).where('id', '=', pending.id).where('status', '=', 'PENDING').returningAll().executeTakeFirst();
        if (row) return row;
      }
      return tx.insertInto('live_streams').values({ key_id: key.id, owner: key.owner, title: key.label || 'Live stream', status: 'ACTIVE', started_at: now, ingest }).returningAll().executeTakeFirstOrThrow();
    });
  }

  async describeMedia(id: string, media: { codecs: string; width: number; height: number }): Promise<void> {
    await this.db.updateTable('live_streams').set(media).where('id', '=', id).execute();
  }

  /** ACTIVE or PENDING → COMPLETED / FAILED. Returns the row, or null if it had already ended. */
  async endStream(id: string, status: Extract<StreamStatus, 'COMPLETED' | 'FAILED'>, peakViewers: number, reason: string | null = null): Promise<StreamRow | null> {
    const row = await this.db
      .updateTable('live_streams')
      .set({ status, ended_at: new Date(), failure_reason: reason, peak_viewers: sql<number>`greatest(peak_viewers, ${peakViewers})` })
      .where('id', '=', id)
      .where('status', 'in', ['PENDING', 'ACTIVE'])
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async recordPeak(id: string, peak: number): Promise<void> {
    await this.db.updateTable('live_streams').set({ peak_viewers: sql<number>`greatest(peak_viewers, ${peak})` }).where('id', '=', id).execute();
  }

  /** Streams left ACTIVE by a previous process of this node's embedded ingest cannot resume. */
  async failOrphans(reason: string): Promise<number> {
    const rows = await this.db.updateTable('live_streams').set({ status: 'FAILED', ended_at: new Date(), failure_reason: reason }).where('status', '=', 'ACTIVE').where('ingest', '=', 'embedded').returning('id').execute();
    return rows.length;
  }

  async getStream(id: string): Promise<StreamRow | undefined> {
    return this.db.selectFrom('live_streams').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async activeStreamForKey(keyId: string): Promise<StreamRow | undefined> {
    return this.db.selectFrom('live_streams').selectAll().where('key_id', '=', keyId).where('status', '=', 'ACTIVE').executeTakeFirst();
  }

  async listStreams(filter: { status?: StreamStatus; owner?: string; q?: string; limit: number }): Promise<StreamRow[]> {
    let q = this.db.selectFrom('live_streams').selectAll().orderBy('created_at', 'desc').limit(filter.limit);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.owner) q = q.where('owner', '=', filter.owner);
    if (filter.q) q = q.where('title', 'ilike', `%${filter.q.replace(/[%_\\]/g, '\\$&')}%`);
    return q.execute();
  }

  /** One sampling tick's rows, every live stream's, in one statement. */
  async addSamples(rows: (Omit<SampleView, 'at'> & { streamId: string; at: Date })[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('live_stream_samples')
      .values(rows.map((s) => ({ stream_id: s.streamId, at: s.at, viewers: s.viewers, bitrate_kbps: s.bitrateKbps, fps: s.fps, dropped_frames: s.droppedFrames, segment_ms: s.segmentMs })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async samples(streamId: string, from: Date | null, to: Date | null, limit: number): Promise<SampleView[]> {
    let q = this.db.selectFrom('live_stream_samples').selectAll().where('stream_id', '=', streamId).orderBy('at').limit(limit);
    if (from) q = q.where('at', '>=', from);
    if (to) q = q.where('at', '<=', to);
    return (await q.execute()).map((r) => ({ at: iso(r.at)!, viewers: r.viewers, bitrateKbps: r.bitrate_kbps, fps: r.fps, droppedFrames: r.dropped_frames, segmentMs: r.segment_ms }));
  }

  /** One multi-row INSERT for a batch of joins (apps/live/viewer-sessions). */
  async openViewerSessions(events: ViewerSessionEvent[]): Promise<void> {
    if (!events.length) return;
    await this.db
      .insertInto('live_viewer_sessions')
      .values(events.map((e) => ({ stream_id: e.streamId, viewer: e.viewer, transport: e.transport, started_at: e.at })))
      .execute();
  }

  /** One UPDATE for a batch of leaves: each closes that viewer's open session begun before it. */
  async closeViewerSessions(events: ViewerSessionEvent[]): Promise<void> {
    if (!events.length) return;
    const rows = sql.join(events.map((e) => sql`(${e.streamId}::uuid, ${e.viewer}::text, ${e.transport}::text, ${e.at.toISOString()}::timestamptz)`));
    await sql`update live_viewer_sessions s set ended_at = c.ended_at
      from (values ${rows}) as c (stream_id, viewer, transport, ended_at)
      where s.stream_id = c.stream_id and s.viewer = c.viewer and s.transport = c.transport
        and s.ended_at is null and s.started_at <= c.ended_at`.execute(this.db);
  }

  async closeAllViewerSessions(streamId: string): Promise<void> {
    await this.db.updateTable('live_viewer_sessions').set({ ended_at: new Date() }).where('stream_id', '=', streamId).where('ended_at', 'is', null).execute();
  }

  async viewerSessionCount(streamId: string): Promise<number> {
    const r = await this.db.selectFrom('live_viewer_sessions').select((eb) => eb.fn.countAll<string>().as('n')).where('stream_id', '=', streamId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
