/**
 * @module bench/cluster/node-metrics
 * Where a node's part of the publish→client time goes, read from its own Prometheus histograms
 * (GET /metrics) before and after a step: `redis_command_duration_seconds{op="publish"}` (the
 * publish script's round trip from the publishing node: its event loop, the hop to Redis,
 * Redis, the reply) and `hub_delivery_latency_seconds` (from the engine publish's timestamp on
 * whichever node published to this node's last socket write of a flush pass: the Redis pub/sub
 * hop, this node's subscriber read and its fan-out). Quantiles of bucket counts are bucket upper
 * bounds ("≤"), coarse but enough to say which part holds a tail of tens of milliseconds.
 */
export type Buckets = Map<number, number>;

export interface NodeHistograms {
  publish: Buckets;
  delivery: Buckets;
  /**
   * Every sample naming `duplicate_from_engine` (the hub's old guard, which turned an engine
   * reordering into a silent drop), summed; null when /metrics has none: the guard is gone.
   * Issue 17 asks it gone or reading 0 in every benchmark, so every step reads it.
   */
  duplicateFromEngine: number | null;
  /** `redis_engine_sync_events_total{event="duplicate"}`: copies the engine's in-order path dropped (an overtaken pub/sub message), since the node started. */
  engineDuplicates: number;
}

/** Cumulative bucket counts of one histogram (optionally one label value) in Prometheus text. */
export function bucketsOf(text: string, name: string, label?: [string, string]): Buckets {
  const out: Buckets = new Map();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (label && labels[label[0]] !== label[1]) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/** A counter's value (summed over its series carrying `label`, if given); 0 when absent. */
export function counterOf(text: string, name: string, label?: [string, string]): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (label && labels[label[0]] !== label[1]) continue;
    total += Number(m[2]);
  }
  return total;
}

/** Sum of every sample line (not a comment) whose name or labels contain `needle`; null when none does. */
export function samplesNaming(text: string, needle: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes(needle)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

export async function scrapeNode(port: number, apiKey: string): Promise<NodeHistograms | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const text = await res.text();
    return {
      publish: bucketsOf(text, 'redis_command_duration_seconds', ['op', 'publish']),
      delivery: bucketsOf(text, 'hub_delivery_latency_seconds'),
      duplicateFromEngine: samplesNaming(text, 'duplicate_from_engine'),
      engineDuplicates: counterOf(text, 'redis_engine_sync_events_total', ['event', 'duplicate']),
    };
  } catch {
    return null;
  }
}

/** The quantile `q` of the observations between two scrapes, in ms, as its bucket's upper bound (null: none). */
export function quantileMs(before: Buckets, after: Buckets, q: number): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return null;
  for (const le of bounds) {
    const n = (after.get(le) ?? 0) - (before.get(le) ?? 0);
    if (n >= q * total) return le === Infinity ? Infinity : Math.round(le * 1e5) / 100;
  }
  return null;
}
