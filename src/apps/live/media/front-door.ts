/**
 * @module apps/live/media/front-door
 * Playback requests answered straight from Node's HTTP server, ahead of Fastify. At 2,000 LL-HLS
 * viewers every part releases 4,000 held requests at once (each viewer's blocking playlist reload
 * and its preload-hinted part), and the playlist's p99 is how long the server takes to write them
 * all: Fastify's routing, request and reply objects, hooks and validation were about half of
 * each answer's CPU. Here a well-formed GET of a playback file (the shape players send) is
 * answered with one `writeHead` + `end`, or, for a shared answer (a playlist version, a part), one
 * `end()` of a header block built once and shared by every waiter (apps/live/media/wire).
 *
 * Whatever is not plainly well-formed here (another method, percent-encoded or repeated query
 * values, a path the pattern does not take) goes on to Fastify, whose routes answer it (and
 * validate it) exactly as before. Every answer starts with the server-wide security headers the
 * door is given (http/instance's SECURITY_HEADERS, the list Fastify's hook sets too), so both
 * doors answer with the same headers from the first request on. Playback routes are public
 * (apps/live/access), so there is no auth to skip.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { PlaybackAnswer } from './playback.js';
import { WireAnswers } from './wire.js';

/** A request in the shape the door takes, its query values as sent. */
export interface DoorRequest {
  id: string;
  rendition: string | undefined;
  file: string;
  msn: string | undefined;
  part: string | undefined;
  viewer: string | undefined;
  ifNoneMatch: string | undefined;
  /** The client's address, asked only when needed (a viewer without a valid `viewer` id): a syscall per new connection otherwise. */
  ip: () => string;
  userAgent: string | undefined;
}

export type DoorHandler = (req: DoorRequest, respond: (answer: PlaybackAnswer) => void) => void;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** The query keys a playback answer reads. */
const enum QueryKey {
  Other,
  Msn,
  Part,
  Viewer,
}

/** Which key `query.slice(from, end)` is, compared in place (no key string is made). */
function queryKey(query: string, from: number, end: number): QueryKey {
  const length = end - from;
  if (length === 8 && query.startsWith('_HLS_msn', from)) return QueryKey.Msn;
  if (length === 9 && query.startsWith('_HLS_part', from)) return QueryKey.Part;
  if (length === 6 && query.startsWith('viewer', from)) return QueryKey.Viewer;
  return QueryKey.Other;
}

/** The door in front of each server, for tests and the bench to read its counts. */
const doors = new WeakMap<Server, MediaFrontDoor>();
export const frontDoorOf = (server: Server): MediaFrontDoor | undefined => doors.get(server);

export class MediaFrontDoor {
  private readonly path: RegExp;
  private readonly flat = new WeakMap<object, string[]>();
  private readonly wire = new WireAnswers();
  private closed = false;
  /** Requests the door answered, and those it passed on to Fastify (tests and the bench read them). */
  answered = 0;
  passed = 0;

  /**
   * `prefix`: where the app's routes live (`/api/v1/streams`); `serverWide`: the headers every
   * answer of the server carries, `[name, value, …]` (http/instance SECURITY_HEADERS).
   */
  constructor(
    prefix: string,
    private readonly serverWide: readonly string[],
    private readonly handle: DoorHandler,
    private readonly onError: (err: unknown) => void,
  ) {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.path = new RegExp(`^${escaped}/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/media/(?:([0-9]{2,4}p)/)?([a-z0-9.-]{1,40})(?:\\?([^#]*))?$`);
  }

  /** Puts the door in front of `server`'s request listeners (Fastify's, or the handover's). */
  install(server: Server): void {
    doors.set(server, this);
    const downstream = server.listeners('request') as Listener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.take(req, res)) return;
      this.passed++;
      for (const listener of downstream) listener.call(server, req, res);
    });
  }

  /** Stops answering (the server closes): Fastify answers what still comes (503 while closing). */
  close(): void {
    this.closed = true;
  }

  private take(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.closed || req.method !== 'GET') return false;
    const m = this.path.exec(req.url ?? '');
    if (!m) return false;
    let msn: string | undefined;
    let part: string | undefined;
    let viewer: string | undefined;
    const query = m[4];
    if (query) {
      // Percent-encoding and `+` are left to Fastify's parser, and so is a repeated key the answer
      // reads (an array there: a bad request); keys it does not read are ignored by both doors. A
      // scan by index, not split('&') and a Set: no array or set per request (~12,000 a second at
      // 2,000 viewers), only the values' own strings.
      if (query.includes('%') || query.includes('+')) return false;
      let from = 0;
      while (from <= query.length) {
        let end = query.indexOf('&', from);
        if (end < 0) end = query.length;
        const eq = query.indexOf('=', from);
        const keyEnd = eq >= 0 && eq < end ? eq : end;
        const value = keyEnd < end ? query.slice(keyEnd + 1, end) : '';
        const key = queryKey(query, from, keyEnd);
        from = end + 1;
        if (key === QueryKey.Msn) {
          if (msn !== undefined) return false;
          msn = value;
        } else if (key === QueryKey.Part) {
          if (part !== undefined) return false;
          part = value;
        } else if (key === QueryKey.Viewer) {
          if (viewer !== undefined) return false;
          viewer = value;
        }
      }
    }
    const inm = req.headers['if-none-match'];
    this.answered++;
    this.handle(
      { id: m[1]!, rendition: m[2], file: m[3]!, msn, part, viewer, ifNoneMatch: inm, ip: () => req.socket.remoteAddress ?? '', userAgent: req.headers['user-agent'] },
      (answer) => this.write(res, answer),
    );
    return true;
  }

  private write(res: ServerResponse, answer: PlaybackAnswer): void {
    try {
      // The viewer left while its request was held: nothing to send, nothing to hold.
      if (res.destroyed) return;
      if (answer.hold) res.once('close', answer.hold());
      // A shared answer (a playlist version, a part) is sent as bytes made once (apps/live/media/wire).
      if (answer.shared) return this.wire.write(res, answer.status, this.headersOf(answer), answer.body);
      res.writeHead(answer.status, this.headersOf(answer));
      res.end(answer.body ?? undefined);
    } catch (err) {
      this.onError(err);
      res.destroy();
    }
  }

  private headersOf(answer: PlaybackAnswer): string[] {
    const cached = answer.shared ? this.flat.get(answer.headers) : undefined;
    if (cached) return cached;
    const out = this.serverWide.slice();
    for (const name in answer.headers) out.push(name, answer.headers[name]!);
    if (answer.shared) this.flat.set(answer.headers, out);
    return out;
  }
}
