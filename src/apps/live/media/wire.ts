/**
 * @module apps/live/media/wire
 * A shared answer written as bytes made once. When a part is out, ~2,000 held LL-HLS playlist
 * requests are answered in one turn with the same status, headers and body; `writeHead(flat)`
 * validates and concatenates every header again for each of them, and `end(body)` then writes
 * that string and the body as two chunks. Here the header block (status line, the answer's
 * headers, then `Date`, `Connection` and `Keep-Alive` exactly as Node's `_storeHeader` adds
 * them) is built once per answer, second and keep-alive setting, and a small body is joined to
 * it: one `end()` of one buffer per answer, about a third less CPU in the release loop
 * (docs/live.md, live6).
 *
 * This sets two fields of Node's `OutgoingMessage` that are not public API (`_header`,
 * `_headerSent`: what `writeHead` leaves behind, unchanged since Node 0.x). So it is used only
 * where Node's own path would write the same bytes: a fresh keep-alive response with no header
 * set, whose server sends `Date`, to a request that takes a body. Anything else (a client asking
 * to close, the last request a connection may make, a HEAD request, a build of Node without these
 * fields) gets `writeHead` + `end`.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

/** The parts of Node's ServerResponse that writeHead reads and sets (lib/_http_outgoing). */
interface NodeResponse {
  _header: string | null;
  _headerSent: boolean;
  /** False for an answer to HEAD (and for 204/304 once writeHead ran): Node then drops what `end` is given. */
  _hasBody: boolean;
  _keepAliveTimeout?: number;
  _defaultKeepAlive?: boolean;
  _maxRequestsPerSocket?: number;
  maxRequestsOnConnectionReached?: boolean;
  shouldKeepAlive: boolean;
}

/** Bodies up to this size are copied behind their header block (one chunk); larger ones (parts) are written beside it. */
const JOIN_LIMIT = 16 * 1024;

interface Wire {
  /** The second the block's Date names, and the keep-alive settings its Connection/Keep-Alive lines say. */
  second: number;
  keepAliveTimeout: number;
  maxRequests: number;
  header: string;
  /** Header block + body, when the body is small; null: write the body after the header block. */
  joined: Buffer | null;
}

/** The server's keep-alive timeout as the Keep-Alive line uses it: 0 when Node writes no such line. */
const keepAliveTimeoutOf = (res: NodeResponse): number => (res._defaultKeepAlive && res._keepAliveTimeout ? res._keepAliveTimeout : 0);
const maxRequestsOf = (res: NodeResponse): number => res._maxRequestsPerSocket ?? 0;

/** The keep-alive lines Node adds to a keep-alive answer with a content-length (lib/_http_outgoing _storeHeader). */
function connectionLines(keepAliveTimeout: number, maxRequests: number): string {
  if (!keepAliveTimeout) return 'Connection: keep-alive\r\n';
  const max = maxRequests > 0 ? `, max=${maxRequests}` : '';
  return `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveTimeout / 1000)}${max}\r\n`;
}

/**
 * The Date header's value for `second`, made once a second as Node's own (lib/internal/http
 * `utcDate`, not exported) is. The live app's one Date cache: the only Date header it writes
 * itself is here; every answer it sends through `writeHead` gets Node's.
 */
let dateSecond = -1;
let dateText = '';
function utcDate(second: number): string {
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

export class WireAnswers {
  private readonly wires = new WeakMap<readonly string[], Wire>();

  /**
   * Writes `status`, the flat headers (`[name, value, …]`, content-length among them when there is
   * a body; the same array for every viewer of the answer) and `body`, ending the response.
   */
  write(res: ServerResponse, status: number, flat: readonly string[], body: Buffer | null): void {
    const raw = res as unknown as NodeResponse;
    if (!raw.shouldKeepAlive || raw.maxRequestsOnConnectionReached || !res.sendDate || raw._header !== null || raw._headerSent !== false || raw._hasBody !== true) {
      // HEAD (`_hasBody` false): Node would drop the joined buffer, header block and all.
      res.writeHead(status, flat as string[]);
      res.end(body ?? undefined);
      return;
    }
    const wire = this.wireOf(raw, status, flat, body);
    res.statusCode = status;
    raw._header = wire.header;
    if (wire.joined) {
      // The block goes out inside the joined buffer: Node must not send its string again.
      raw._headerSent = true;
      res.end(wire.joined);
    } else {
      res.end(body ?? undefined);
    }
  }

  /** A cache hit (same answer, second and keep-alive settings: ~2,000 per part) allocates nothing. */
  private wireOf(res: NodeResponse, status: number, flat: readonly string[], body: Buffer | null): Wire {
    const second = Math.floor(Date.now() / 1000);
    const keepAliveTimeout = keepAliveTimeoutOf(res);
    const maxRequests = maxRequestsOf(res);
    let wire = this.wires.get(flat);
    if (wire && wire.second === second && wire.keepAliveTimeout === keepAliveTimeout && wire.maxRequests === maxRequests) return wire;
    let header = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < flat.length; i += 2) header += `${flat[i]}: ${flat[i + 1]}\r\n`;
    header += `Date: ${utcDate(second)}\r\n${connectionLines(keepAliveTimeout, maxRequests)}\r\n`;
    const joined = body && body.length <= JOIN_LIMIT ? Buffer.concat([Buffer.from(header, 'latin1'), body]) : !body ? Buffer.from(header, 'latin1') : null;
    wire = { second, keepAliveTimeout, maxRequests, header, joined };
    this.wires.set(flat, wire);
    return wire;
  }
}
