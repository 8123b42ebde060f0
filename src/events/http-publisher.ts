/**
 * @module events/http-publisher
 * Publishes events by POSTing them to a hub node's internal endpoint (`POST /internal/v1/events`,
 * API key), which publishes into the hub with the event id as idempotency key. It is the
 * fallback while Redis Streams are unreachable and the old path during a rollout.
 *
 * A node answering 5xx (its engine is down too) or not answering is retried, rotating over the
 * configured nodes with backoff, until `retryForMs` passes: an event is either accepted or the
 * caller hears about it, never dropped silently. Retrying cannot duplicate: the hub dedupes.
 */
import { AirwavesError, Errors } from '../core/errors.js';
import type { TransportMetrics } from './publisher-metrics.js';
import type { EventPublisher, TransportEvent, TransportName } from './publisher.js';

export interface HttpEventPublisherOptions {
  /** Base URLs of hub nodes (e.g. http://10.0.0.5:8080), read at each publish. */
  urls: () => string[];
  apiKey: string | undefined;
  /** Per-request timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Keep retrying a retryable failure this long. Default 30 s. */
  retryForMs?: number;
  metrics?: TransportMetrics;
}

export const INTERNAL_EVENTS_PATH = '/internal/v1/events';

export class HttpEventPublisher implements EventPublisher {
  private next = 0;
  constructor(private readonly options: HttpEventPublisherOptions) {}

  async publish(event: TransportEvent): Promise<{ transport: TransportName }> {
    const started = performance.now();
    const deadline = Date.now() + (this.options.retryForMs ?? 30_000);
    const body = JSON.stringify(event);
    let backoff = 50;
    let lastProblem = 'no hub node URL is configured';
    for (;;) {
      const urls = this.options.urls().filter(Boolean);
      if (urls.length > 0) {
        const base = urls[this.next++ % urls.length];
        try {
          const res = await fetch(base + INTERNAL_EVENTS_PATH, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey ?? ''}` },
            body,
            signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000),
          });
          if (res.ok) {
            await res.arrayBuffer();
            this.options.metrics?.observePublish('http', event.type, started);
            return { transport: 'http' };
          }
          const problem = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
          lastProblem = `${base} answered ${res.status} ${problem?.error?.code ?? ''} ${problem?.error?.message ?? ''}`.trim();
          // Retryable: 5xx (that node's engine is down too), 429 (rate limit), 408 (timed out).
          // Anything else (a wrong key: 401/403, a bad event: 400) would fail the same way again.
          if (res.status < 500 && res.status !== 429 && res.status !== 408) {
            const spec = Object.values(Errors).find((s) => s.code === problem?.error?.code) ?? Errors.badRequest;
            throw new AirwavesError(spec, `hub refused event ${event.eventId}: ${problem?.error?.message ?? res.status}`);
          }
        } catch (err) {
          if (err instanceof AirwavesError) throw err;
          lastProblem = `${base}: ${(err as Error).message}`;
        }
      }
      if (Date.now() + backoff > deadline) throw new AirwavesError(Errors.engineUnavailable, `event ${event.eventId} not accepted over HTTP: ${lastProblem}`);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 500);
    }
  }
}
