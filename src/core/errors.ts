/**
 * @module core/errors
 * The one catalogue of Airwaves error codes. Every code is stable and documented in
 * docs/protocol.md; where an error ends a WebSocket connection it also names the close code.
 * Codes are never reused for another meaning.
 */

export const WS_CLOSE = {
  normal: 1000,
  serviceRestart: 1012,
  unauthorized: 4001,
  forbidden: 4003,
  badFrame: 4002,
  slowConsumer: 4008,
  rateLimited: 4029,
  messageTooBig: 1009,
} as const;

export interface ErrorSpec {
  /** Machine-readable code sent to clients. */
  readonly code: string;
  /** Default human message. */
  readonly message: string;
  /** HTTP status when the error surfaces through the REST API. */
  readonly httpStatus: number;
  /** When set, the WebSocket is closed with this code after the error is sent. */
  readonly closeCode?: number;
}

function spec(code: string, message: string, httpStatus: number, closeCode?: number): ErrorSpec {
  return { code, message, httpStatus, closeCode };
}

export const Errors = {
  badJson: spec('bad_json', 'frame is not valid JSON', 400),
  badFrame: spec('bad_frame', 'frame does not match the protocol', 400),
  unknownOp: spec('unknown_op', 'unknown op', 400),
  messageTooBig: spec('message_too_big', 'message exceeds the size limit', 413),
  frameTooBig: spec('frame_too_big', 'frame exceeds the maximum frame size', 413, WS_CLOSE.messageTooBig),
  badChannel: spec('bad_channel', 'channel name must be namespace:name', 400),
  unknownNamespace: spec('unknown_namespace', 'no such namespace', 404),
  unauthorized: spec('unauthorized', 'missing, bad or expired token', 401),
  forbidden: spec('forbidden', 'not allowed on this channel', 403),
  rateLimited: spec('rate_limited', 'rate limit exceeded', 429),
  tooManySubscriptions: spec('too_many_subscriptions', 'subscription limit reached for this connection', 429),
  alreadySubscribed: spec('already_subscribed', 'already subscribed to this channel', 409),
  notSubscribed: spec('not_subscribed', 'not subscribed to this channel', 409),
  binaryNotAllowed: spec('binary_not_allowed', 'binary frames are only accepted on binary namespaces', 400),
  presenceDisabled: spec('presence_disabled', 'presence is not enabled on this namespace', 400),
  alreadyConnected: spec('already_connected', 'connect was already sent on this connection', 409),
  shuttingDown: spec('shutting_down', 'server is shutting down', 503),
  appStarting: spec('app_starting', 'the app this belongs to is starting; retry in a moment', 503),
  engineUnavailable: spec('engine_unavailable', 'the hub engine (Redis) is unreachable; retry shortly', 503),
  syncPublishUnsupported: spec('sync_publish_unsupported', 'this hub engine publishes asynchronously; use publish()', 500),
  slowConsumer: spec('slow_consumer', 'client could not keep up', 503, WS_CLOSE.slowConsumer),
  internal: spec('internal', 'internal error', 500),
  badRequest: spec('bad_request', 'bad request', 400),
  notFound: spec('not_found', 'not found', 404),
  conflict: spec('conflict', 'conflict', 409),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = (typeof Errors)[keyof typeof Errors]['code'];

/** An error that carries its catalogue entry so transports can render it precisely. */
export class AirwavesError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly closeCode?: number;
  /** A temporary refusal: the client may retry after this long (sent on the wire as `retryAfterMs`). */
  readonly retryAfterMs?: number;
  constructor(errorSpec: ErrorSpec, message?: string, options: { retryAfterMs?: number } = {}) {
    super(message ?? errorSpec.message);
    this.name = 'AirwavesError';
    this.code = errorSpec.code;
    this.httpStatus = errorSpec.httpStatus;
    this.closeCode = errorSpec.closeCode;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function fail(errorSpec: ErrorSpec, message?: string): never {
  throw new AirwavesError(errorSpec, message);
}

export function isAirwavesError(err: unknown): err is AirwavesError {
  return err instanceof AirwavesError;
}
