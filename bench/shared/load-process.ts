/**
 * @module bench/shared/load-process
 * The skeleton every forked load generator shares (the hub's publisher and receiver, the cluster's
 * phased publisher, the soak's radio listeners): requests dispatched by `type` to one handler
 * each, `close` that lets the process's own cleanup run and then exits, and a publisher's result
 * line. Written once here, so a new generator only states what its requests do.
 */
import { serve, type PublisherResult } from '../hub/ipc.js';

/** One handler per request type but `close`; each gets its own request shape. */
export type LoadHandlers<R extends { type: string }> = { [K in Exclude<R['type'], 'close'>]: (request: Extract<R, { type: K }>) => unknown };

/** How long after answering `close` the process exits: the reply must leave on the IPC channel first. */
const EXIT_AFTER_CLOSE_MS = 50;

/**
 * Answers the coordinator's requests (bench/hub/ipc `serve`): `close` runs `close()` (sockets
 * closed), answers `{ ok: true }` and exits; any other type goes to its handler, an unknown one
 * is refused by name.
 */
export function serveLoadProcess<R extends { type: string }>(handlers: LoadHandlers<R>, close: () => void): void {
  const byType = handlers as unknown as Record<string, (request: R) => unknown>;
  serve((req) => {
    const request = req as unknown as R;
    if (request.type === 'close') {
      close();
      setTimeout(() => process.exit(0), EXIT_AFTER_CLOSE_MS);
      return { ok: true };
    }
    const handler = Object.hasOwn(byType, request.type) ? byType[request.type] : undefined;
    if (!handler) throw new Error(`unknown request type "${request.type}"`);
    return handler(request);
  });
}

/**
 * A publisher's result: `published` per channel, and the rate it achieved over at least the
 * requested duration (a run that finished early does not report more than its rate).
 */
export function publisherResult(published: Record<string, number>, total: number, elapsedMs: number, durationMs: number): PublisherResult {
  return { published, total, elapsedMs, achievedRate: total / (Math.max(elapsedMs, durationMs) / 1000) };
}
