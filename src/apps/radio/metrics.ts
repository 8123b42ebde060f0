/**
 * @module apps/radio/metrics
 * The radio's Prometheus metrics. Labels are bounded: station ids come from configuration (at
 * most eight), formats and sides are fixed sets.
 */
import { prom, type Registry } from '../../core/metrics.js';

/** Listener counts per station and format, read when Prometheus scrapes. */
export type ListenerCounts = () => { station: string; format: 'pcm' | 'opus'; listeners: number }[];

export function createRadioMetrics(registry: Registry, listenerCounts: ListenerCounts) {
  const registers = [registry];
  return {
    listeners: new prom.Gauge({
      name: 'radio_listeners',
      help: 'Listeners subscribed to a station stream',
      labelNames: ['station', 'format'] as const,
      registers,
      collect() {
        for (const c of listenerCounts()) this.set({ station: c.station, format: c.format }, c.listeners);
      },
    }),
    underruns: new prom.Counter({
      name: 'radio_underruns_total',
      help: 'Underruns: side="server" when a chunk was not synthesised by its publish time, side="client" as reported by players',
      labelNames: ['station', 'side'] as const,
      registers,
    }),
    deliveryJitter: new prom.Histogram({
      name: 'radio_chunk_delivery_jitter_seconds',
      help: 'How late each chunk was published into the hub relative to its schedule',
      labelNames: ['station'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    }),
    synthesisLatency: new prom.Histogram({
      name: 'synthesis_latency_seconds',
      help: 'Round trip of one synthesis request to the worker (render and encode of a batch of chunks)',
      labelNames: ['station'] as const,
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5],
      registers,
    }),
    realTimeFactor: new prom.Gauge({ name: 'synthesis_real_time_factor', help: 'Seconds of audio synthesised per second of synthesis time (worker)', registers }),
    phraseRate: new prom.Gauge({ name: 'phrase_generation_rate_hz', help: 'Phrases composed per second, over the last minute', labelNames: ['station'] as const, registers }),
    chunks: new prom.Counter({ name: 'radio_chunks_published_total', help: 'Chunks published into the hub (once each, whatever the listener count)', labelNames: ['station', 'format'] as const, registers }),
    leadTier: new prom.Gauge({ name: 'radio_server_lead_tier', help: 'Current server-side synthesis lead tier (0-3)', labelNames: ['station'] as const, registers }),
    leadMs: new prom.Gauge({ name: 'radio_server_lead_ms', help: 'How far ahead of its publish time audio is synthesised', labelNames: ['station'] as const, registers }),
    resting: new prom.Gauge({ name: 'radio_station_resting', help: '1 while a station composes nothing because nobody has listened for AIRWAVES_RADIO_REST_AFTER_MS', labelNames: ['station'] as const, registers }),
    clientReports: new prom.Counter({ name: 'radio_client_reports_total', help: 'Health reports received from players', labelNames: ['station'] as const, registers }),
  };
}

export type RadioMetrics = ReturnType<typeof createRadioMetrics>;
