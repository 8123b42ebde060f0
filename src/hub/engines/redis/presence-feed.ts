/**
 * @module hub/engines/redis/presence-feed
 * Presence notices (join/leave from other nodes) for the channels a node listens to, without
 * gaps across a reconnect. Notices come over the channel's pub/sub, which says nothing of what
 * was published while the node's subscriber connection was down; every notice is therefore also
 * numbered and kept in a short log in Redis (lua/presence-announce.lua).
 *
 * Per channel the feed keeps the number of the last notice it knows of: read from Redis when the
 * node starts listening (so notices from before are not replayed), raised by every notice heard.
 * After a resubscribe it reads the log and tells the subscribers, in order, the notices numbered
 * above that mark; live notices arriving meanwhile wait behind them (so none is told twice or
 * out of order). The node's own notices are skipped: the hub told its subscribers where they
 * happened. More notices missed than the log holds cannot be replayed: counted
 * (`presence_gap`) and logged.
 */
import { presenceNoticeOf, type PresenceNotice } from './wire.js';

/** Presence notices kept per channel for nodes that were away (a reconnect seldom misses more). */
export const PRESENCE_LOG_SIZE = 1000;

export interface PresenceFeedDeps {
  nodeId: string;
  /** Tells the channel's subscribers on this node. */
  tell(channel: string, notice: PresenceNotice): void;
  /** The channel's notice sequence now (null: no notice yet). */
  readSeq(channel: string): Promise<string | null>;
  /** The channel's notice log, newest first. */
  readLog(channel: string): Promise<Buffer[]>;
  count(event: 'presence_recovered' | 'presence_gap', n?: number): void;
  warn(message: string, err: unknown): void;
}

interface FeedState {
  /** The last notice number known here; null until the start read answers (or when it failed). */
  last: number | null;
  /** Live notices waiting while the log is read after a resubscribe; null when not recovering. */
  held: PresenceNotice[] | null;
}

export class PresenceFeed {
  private readonly channels = new Map<string, FeedState>();

  constructor(private readonly deps: PresenceFeedDeps) {}

  /** The node listens to `channel` (once `subscribed` resolves, its notices arrive): the mark is read then. */
  listen(channel: string, subscribed: Promise<unknown>): void {
    const state: FeedState = { last: null, held: null };
    this.channels.set(channel, state);
    subscribed
      .then(() => this.deps.readSeq(channel))
      .then(
        (seq) => {
          if (this.channels.get(channel) === state) state.last = Math.max(state.last ?? 0, seq === null ? 0 : Number(seq));
        },
        () => {
          /* no mark: a recovery before the next notice reads none of the log (nothing is replayed twice) */
        },
      );
  }

  forget(channel: string): void {
    this.channels.delete(channel);
  }

  /** A notice heard on the channel's pub/sub. */
  offer(channel: string, notice: PresenceNotice): void {
    const state = this.channels.get(channel);
    if (!state) return;
    if (state.held) {
      state.held.push(notice);
      return;
    }
    this.take(channel, state, notice);
  }

  /** After the subscriber connection came back (and resubscribed): tell what was missed meanwhile. */
  async recover(channel: string): Promise<void> {
    const state = this.channels.get(channel);
    if (!state || state.held) return;
    state.held = [];
    try {
      const log = await this.deps.readLog(channel);
      if (this.channels.get(channel) !== state) return;
      const notices = log.map((b) => presenceNoticeOf(b)).filter((n): n is PresenceNotice & { seq: number } => n?.seq !== undefined);
      notices.reverse();
      if (state.last !== null) {
        const since = state.last;
        const missed = notices.filter((n) => n.seq > since);
        if (log.length >= PRESENCE_LOG_SIZE && missed.length > 0 && missed[0].seq > since + 1) {
          this.deps.count('presence_gap');
          this.deps.warn(`${channel}: more presence notices were missed than the log keeps; some joins/leaves were not told`, new Error(`notices ${since + 1}..${missed[0].seq - 1} trimmed`));
        }
        let told = 0;
        for (const n of missed) if (this.take(channel, state, n)) told++;
        if (told > 0) this.deps.count('presence_recovered', told);
      } else if (notices.length > 0) {
        state.last = notices[notices.length - 1].seq;
      }
    } catch (err) {
      this.deps.warn(`${channel}: presence notices missed while reconnecting could not be read`, err);
    } finally {
      const held = state.held ?? [];
      state.held = null;
      for (const n of held) this.take(channel, state, n);
    }
  }

  /** Tells a notice unless it is this node's own or one already told; true when told. */
  private take(channel: string, state: FeedState, notice: PresenceNotice): boolean {
    if (notice.seq !== undefined) {
      if (state.last !== null && notice.seq <= state.last) return false;
      state.last = notice.seq;
    }
    if (notice.node === this.deps.nodeId) return false;
    this.deps.tell(channel, notice);
    return true;
  }
}
