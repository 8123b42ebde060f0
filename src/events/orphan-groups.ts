/**
 * @module events/orphan-groups
 * Deletes the consumer groups of nodes that are gone. Every node reads each stream through its
 * own group (`hub-<nodeId>`, see event-consumer), so a node that left for good (scaled down, or
 * restarted under a new id) leaves a group behind whose lag and pending list only grow. Nothing
 * reads it, yet the trim guard must treat its unread entries as unacknowledged: every trimmed
 * entry would be dead-lettered and counted as a loss that is not one.
 *
 * A group is orphaned when it belongs to the hub (`hub-` prefix, never this node's own) and all
 * its consumers have been idle longer than `orphanAfterMs` (a live consumer reads every second or
 * so), or it has had no consumer at all for that long. Every node sweeps; the first to see an
 * orphan deletes it, and each deletion is counted in
 * `events_orphaned_groups_deleted_total{stream}` and logged with the group's pending and lag.
 *
 * Nothing is lost: every node publishes every event into the hub itself (its own group), so the
 * entries only the gone node's group had not read reached clients through the live nodes. A
 * node that comes back under the same id after its group was deleted recreates it after the
 * last entry it handled (event-consumer), not at the stream's start.
 */
import type { Logger } from '../core/logger.js';
import { prom, sharedMetric, type Registry } from '../core/metrics.js';
import { isNoGroupError, type EventLog } from './event-log.js';

export const HUB_GROUP_PREFIX = 'hub-';

export interface OrphanGroupSweeperOptions {
  log: EventLog;
  streams: string[];
  /** This node's own group, never deleted. */
  ownGroup: string;
  /** Idle time after which a group of consumers is orphaned. */
  orphanAfterMs: number;
  logger: Logger;
  metrics?: Registry;
  /** Time between sweeps. Default a quarter of orphanAfterMs, between 1 s and 60 s. */
  intervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

export function orphanedGroupsCounter(registry: Registry | undefined): prom.Counter<'stream'> {
  return sharedMetric(
    registry,
    'events_orphaned_groups_deleted_total',
    (registers) =>
      new prom.Counter({
        name: 'events_orphaned_groups_deleted_total',
        help: 'Consumer groups of gone nodes deleted after every consumer was idle past the orphan time (EVENT_TRANSPORT_ORPHAN_GROUP_IDLE_MS)',
        labelNames: ['stream'] as const,
        registers,
      }),
  );
}

export class OrphanGroupSweeper {
  private readonly deleted: prom.Counter<'stream'>;
  private readonly log: Logger;
  private readonly now: () => number;
  /** Groups seen without any consumer, and since when (a group just created has none yet). */
  private readonly emptySince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly options: OrphanGroupSweeperOptions) {
    this.deleted = orphanedGroupsCounter(options.metrics);
    this.log = options.logger.child({ module: 'orphan-groups' });
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    const interval = this.options.intervalMs ?? Math.min(60_000, Math.max(1000, Math.floor(this.options.orphanAfterMs / 4)));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: Error) => this.log.debug({ err: err.message }, 'orphan group sweep failed; tried again next interval'))
        .finally(() => (this.sweeping = undefined));
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** One pass over every stream; resolves with the groups deleted (`stream/group`). */
  async sweep(): Promise<string[]> {
    const gone: string[] = [];
    const seen = new Set<string>();
    for (const stream of this.options.streams) {
      for (const group of await this.options.log.groups(stream)) {
        seen.add(`${stream}/${group.name}`);
        if (!group.name.startsWith(HUB_GROUP_PREFIX) || group.name === this.options.ownGroup) continue;
        if (!(await this.orphaned(stream, group.name))) continue;
        if (!(await this.options.log.deleteGroup(stream, group.name))) continue; // another node was first
        this.emptySince.delete(`${stream}/${group.name}`);
        this.deleted.inc({ stream });
        this.log.warn({ stream, group: group.name, pending: group.pending, lag: group.lag, idleAfterMs: this.options.orphanAfterMs }, 'deleted the consumer group of a gone node');
        gone.push(`${stream}/${group.name}`);
      }
    }
    for (const key of this.emptySince.keys()) if (!seen.has(key)) this.emptySince.delete(key);
    return gone;
  }

  private async orphaned(stream: string, group: string): Promise<boolean> {
    const key = `${stream}/${group}`;
    let consumers;
    try {
      consumers = await this.options.log.consumers(stream, group);
    } catch (err) {
      if (isNoGroupError(err)) return false; // deleted meanwhile
      throw err;
    }
    if (consumers.length > 0) {
      this.emptySince.delete(key);
      return consumers.every((c) => c.idleMs >= this.options.orphanAfterMs);
    }
    const since = this.emptySince.get(key) ?? this.now();
    this.emptySince.set(key, since);
    return this.now() - since >= this.options.orphanAfterMs;
  }
}
