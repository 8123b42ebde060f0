/**
 * @module client/codes
 * The SDK's error and the codes it carries: the server's error codes (docs/protocol.md) passed
 * through, and the client's own (`timeout`, `disconnected`, `closed`, `unsubscribed`,
 * `token_error`, `bad_json`, `bad_frame`); and what a close code means to the client.
 */

/** Rejection reason of every client promise and payload of `error` events. */
export class AirwavesClientError extends Error {
  /**
   * The server's error code (e.g. `unauthorized`, `forbidden`, `rate_limited`), or one of the
   * client's own: `timeout`, `disconnected`, `closed`, `unsubscribed`, `token_error`, `bad_json`,
   * `bad_frame`.
   */
  readonly code: string;
  /** WebSocket close code, when the error comes from a closed connection. */
  readonly closeCode?: number;
  /** The server's hint for a temporary refusal (`app_starting`): retry after this long, ms. */
  readonly retryAfterMs?: number;

  constructor(code: string, message: string, closeCode?: number, retryAfterMs?: number) {
    super(message);
    this.name = 'AirwavesClientError';
    this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** Close codes after which the client does not reconnect: the server refused this client. */
export const CLOSE_UNAUTHORIZED = 4001;
export const CLOSE_FORBIDDEN = 4003;
/** Error codes after which the client does not reconnect. */
export const TERMINAL_CODES: ReadonlySet<string> = new Set(['unauthorized', 'forbidden']);

/** The error a closed connection gives what was waiting on it. */
export function closeError(code: number, reason: string): AirwavesClientError {
  const detail = `connection closed (${code}${reason ? `: ${reason}` : ''})`;
  if (code === CLOSE_UNAUTHORIZED) return new AirwavesClientError('unauthorized', detail, code);
  if (code === CLOSE_FORBIDDEN) return new AirwavesClientError('forbidden', detail, code);
  return new AirwavesClientError('disconnected', detail, code);
}
