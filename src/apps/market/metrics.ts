/**
 * @module apps/market/metrics
 * The market app's Prometheus metrics, labelled by venue (bounded: three venues) and never by
 * symbol or channel: messages, parse time, malformed input, gaps, duplicates, resyncs by reason,
 * checksum failures, reconnects, unknown symbols, the last message time (for the "venue silent"
 * alert), internal latency (tsRecv → handed to the hub), venue event → client write, pool utilisation and acquire timeouts.
 * What is observed per venue message or per publication is kept in plain numbers read by prom-client
 * at scrape (core's Tally, tallyGauge and TallyHistogram).
 */
import { prom, tallyCounter, tallyGauge, TallyHistogram, type Registry } from '../../core/metrics.js';
import type { VenueCounters } from './venues/sink.js';
import type { PoolManager } from './pool.js';
import type { VenueName } from './types.js';

export function createMarketMetrics(registry: Registry | null, pools?: PoolManager) {
  const registers = registry ? [registry] : [];
  const venue = ['venue'] as const;
  const messages = tallyCounter({ name: 'market_venue_messages_total', help: 'Messages received from each venue', label: 'venue', registers });
  const lastMessage = tallyGauge({ name: 'market_venue_last_message_seconds', help: 'Unix time of the last message from each venue', label: 'venue', registers });
  const parse = new TallyHistogram({ name: 'market_parse_seconds', help: 'Time to parse one venue message', label: 'venue', buckets: [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4, 1e-3], registers });
  const malformed = new prom.Counter({ name: 'market_malformed_total', help: 'Venue messages that could not be parsed or had invalid fields', labelNames: venue, registers });
  const gaps = new prom.Counter({ name: 'market_gaps_total', help: 'Sequence gaps detected in venue book streams', labelNames: venue, registers });
  const duplicates = new prom.Counter({ name: 'market_duplicates_total', help: 'Duplicate or late venue book updates dropped', labelNames: venue, registers });
  const resyncs = new prom.Counter({ name: 'market_resyncs_total', help: 'Book resyncs (fresh snapshot) by reason', labelNames: ['venue', 'reason'] as const, registers });
  const checksum = new prom.Counter({ name: 'market_checksum_failures_total', help: 'Book checksum mismatches (Kraken)', labelNames: venue, registers });
  const reconnects = new prom.Counter({ name: 'market_reconnects_total', help: 'Venue connections lost and reopened', labelNames: venue, registers });
  const unknownSymbols = new prom.Counter({ name: 'market_unknown_symbol_total', help: 'Venue messages for symbols we did not subscribe', labelNames: venue, registers });
  const overflow = new prom.Counter({ name: 'market_sync_buffer_overflow_total', help: 'Venue diffs dropped (oldest first) because the buffer kept while a book waits for its snapshot was full: the venue floods faster than snapshots arrive', labelNames: venue, registers });
  const latency = new TallyHistogram({
    name: 'market_internal_latency_seconds',
    help: 'From receiving a venue message (tsRecv) to handing its publication to the hub',
    label: 'venue',
    buckets: [5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.15],
    registers,
  });
  // A tally too (one observation per venue per event-loop turn): prom-client's own observe turned
  // the bucket bound into a property-name string per call, a share of what outlived scavenges.
  const venueToWrite = new TallyHistogram({
    name: 'market_venue_to_write_seconds',
    help: 'From the venue event time (tsEvent) to the hub writing the publication to client sockets; one observation per venue per event-loop turn, of its oldest message',
    label: 'venue',
    buckets: [2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const published = tallyCounter({ name: 'market_published_total', help: 'Publications handed to the hub by stream kind', label: 'kind', registers });
  const dropped = new prom.Counter({ name: 'market_dropped_total', help: 'Market events dropped, by reason (each one also resyncs its stream)', labelNames: ['reason'] as const, registers });
  new prom.Gauge({
    name: 'market_pool_utilisation',
    help: 'Share of each object pool in use',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      for (const p of pools?.list() ?? []) this.set({ pool: p.name }, p.utilisation);
    },
  });
  new prom.Gauge({
    name: 'market_pool_acquire_timeouts',
    help: 'Pool acquisitions that timed out (backpressure) since start',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      for (const p of pools?.list() ?? []) this.set({ pool: p.name }, p.timeouts);
    },
  });

  const counters: VenueCounters = {
    messages(v: VenueName) {
      messages.tally.cell(v).n++;
      lastMessage.tally.cell(v).n = Date.now() / 1000;
    },
    parseTime: (v, s) => parse.of(v).observe(s),
    malformed: (v) => malformed.inc({ venue: v }),
    gap: (v) => gaps.inc({ venue: v }),
    duplicate: (v) => duplicates.inc({ venue: v }),
    resync: (v, reason) => resyncs.inc({ venue: v, reason }),
    checksumFailure: (v) => checksum.inc({ venue: v }),
    reconnect: (v) => reconnects.inc({ venue: v }),
    unknownSymbol: (v) => unknownSymbols.inc({ venue: v }),
    bufferOverflow: (v) => overflow.inc({ venue: v }),
  };
  return {
    counters,
    latency: latency.metric,
    venueToWrite: venueToWrite.metric,
    observeVenueToWrite: (venue: VenueName, seconds: number) => venueToWrite.of(venue).observe(seconds),
    published: published.metric,
    dropped,
    messagesTotal: messages.metric,
    observeLatency: (venue: VenueName, seconds: number) => latency.of(venue).observe(seconds),
    countPublished: (kind: 'snapshot' | 'delta' | 'trade' | 'ticker') => published.tally.cell(kind).n++,
  };
}

export type MarketMetrics = ReturnType<typeof createMarketMetrics>;
