/**
 * @module web/shared/api-error
 * The error a browser UI throws for an HTTP answer that is not ok: the status and the server's
 * machine-readable error code (the catalogue in docs/protocol.md), with its message, so a page
 * can react to a code (`instanceof ApiError`, `err.code`) rather than parse text.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
