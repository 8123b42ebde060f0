/**
 * @module apps/live/metrics
 * The live app's Prometheus metrics, on the app context's registry. Per-stream gauges carry a
 * `stream` label (the stream id) and are removed when the stream ends, so their cardinality is
 * the number of live streams, not the number ever run.
 */
import { prom, type Registry } from '../../core/metrics.js';

export function createLiveMetrics(registry: Registry) {
  const registers = [registry];
  return {
    activeStreams: new prom.Gauge({ name: 'live_active_streams', help: 'Streams currently ACTIVE on this node', registers }),
    viewers: new prom.Histogram({ name: 'live_viewers', help: 'Viewers per stream, observed at every sample', buckets: [0, 1, 5, 10, 50, 100, 500, 1000, 5000, 10000], registers }),
    streamViewers: new prom.Gauge({ name: 'live_stream_viewers', help: 'Viewers of each live stream now', labelNames: ['stream'] as const, registers }),
    peakViewers: new prom.Gauge({ name: 'live_stream_peak_viewers', help: 'Peak viewers of each live stream so far', labelNames: ['stream'] as const, registers }),
    streamDuration: new prom.Histogram({ name: 'live_stream_duration_seconds', help: 'Duration of ended streams', buckets: [10, 60, 300, 900, 1800, 3600, 7200, 14400, 43200], registers }),
    wsConnections: new prom.Gauge({ name: 'live_ws_connections', help: 'Open WebSocket connections through the stream event door', registers }),
    wsFailures: new prom.Counter({ name: 'live_ws_connection_failures_total', help: 'Stream event door upgrades refused or failed', labelNames: ['reason'] as const, registers }),
    broadcasts: new prom.Counter({ name: 'live_broadcasts_total', help: 'Stream events published on the hub', labelNames: ['type'] as const, registers }),
    broadcastErrors: new prom.Counter({ name: 'live_broadcast_errors_total', help: 'Stream events the hub refused or failed to publish', labelNames: ['type'] as const, registers }),
    ingestLatency: new prom.Histogram({ name: 'live_rtmp_ingest_latency_seconds', help: 'From the arrival of a part\'s first frame over RTMP to the part being served', buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5], registers }),
    segmentGeneration: new prom.Histogram({ name: 'live_segment_generation_seconds', help: 'CPU time to encode one part (moof+mdat) from its samples', buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1, 5], registers }),
    segmentInterval: new prom.Gauge({ name: 'live_segment_seconds_since_last', help: 'Seconds since each live stream produced its last segment', labelNames: ['stream'] as const, registers }),
    ingestBitrate: new prom.Gauge({ name: 'live_ingest_bitrate_kbps', help: 'Ingest bitrate of each live stream', labelNames: ['stream'] as const, registers }),
    droppedFrames: new prom.Gauge({ name: 'live_dropped_frames', help: 'Frames dropped at ingest for each live stream so far', labelNames: ['stream'] as const, registers }),
    streamsByHeight: new prom.Gauge({ name: 'live_streams_by_height', help: 'Live streams by source picture height (quality distribution)', labelNames: ['height'] as const, registers }),
    rtmpRejected: new prom.Counter({ name: 'live_rtmp_rejected_total', help: 'RTMP publishes refused, and connections refused at the connection limit', labelNames: ['reason'] as const, registers }),
    rtmpProtocolErrors: new prom.Counter({ name: 'live_rtmp_protocol_errors_total', help: 'RTMP connections closed for malformed input', labelNames: ['kind'] as const, registers }),
    rtmpDropped: new prom.Counter({ name: 'live_rtmp_dropped_messages_total', help: 'RTMP messages ignored (media before publish, unknown messages)', labelNames: ['kind'] as const, registers }),
    badPayloads: new prom.Counter({ name: 'live_bad_payloads_total', help: 'Audio/video payloads skipped as empty, corrupt or of an unsupported codec', labelNames: ['kind'] as const, registers }),
    streamEnds: new prom.Counter({ name: 'live_stream_ends_total', help: 'Streams ended, by final status and reason', labelNames: ['status', 'reason'] as const, registers }),
    samplesDropped: new prom.Counter({ name: 'live_samples_dropped_total', help: 'Stream time-series rows dropped unwritten: the queue was full while the database refused writes', registers }),
    viewerSessionsDropped: new prom.Counter({ name: 'live_viewer_sessions_dropped_total', help: 'Viewer-session joins/leaves not recorded in the history: queue full (open, close) or the batch write failed (failed)', labelNames: ['kind'] as const, registers }),
    abrRenditions: new prom.Gauge({ name: 'live_abr_renditions', help: 'ABR renditions being transcoded now (all streams)', registers }),
    abrDropped: new prom.Counter({ name: 'live_abr_dropped_frames_total', help: 'Source frames not given to the ABR transcoder because it fell behind', registers }),
    abrFailures: new prom.Counter({ name: 'live_abr_failures_total', help: 'ABR transcoders that could not start (spawn), exited early (exit) or wrote bad output (format)', labelNames: ['reason'] as const, registers }),
    mediaRequests: new prom.Counter({ name: 'live_media_requests_total', help: 'Manifest and segment requests', labelNames: ['kind', 'result'] as const, registers }),
  };
}

export type LiveMetrics = ReturnType<typeof createLiveMetrics>;

/** Drops a stream's labelled series when it ends. */
export function forgetStream(metrics: LiveMetrics, streamId: string): void {
  for (const g of [metrics.streamViewers, metrics.peakViewers, metrics.ingestBitrate, metrics.droppedFrames, metrics.segmentInterval]) g.remove({ stream: streamId });
}
