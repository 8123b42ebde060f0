/**
 * @module bench/market/feed-tape
 * A venue's feed rendered ahead of time and played at a fixed message rate, so the rate offered
 * to the gateway is not capped by the simulator's own CPU: rendering a message live costs the
 * simulator about as much CPU as the gateway spends reading it, so on a 2-core machine a live
 * simulator cannot offer 100,000 messages/s beside the gateway it feeds.
 *
 * `render(messages, ratePerSec, startAt)` stops the market's timer, takes over every client's
 * `ws.send`, steps the market until `messages` feed messages exist (each step stamped with the
 * time its first message is due: the event times are the planned send times, so "end to end" still
 * starts at the venue's send) and frames them as WebSocket text frames (RFC 6455 §5.2: a server's
 * frames are unmasked; ws's own `Sender` is not in its type declarations) into one buffer per client.
 * `play(at)` writes, from `at`, every millisecond the bytes due to each client's TCP stream:
 * whole frames, so a frame ws writes itself (a pong) never splits one of them. What the connection
 * sends while the tape plays (Coinbase heartbeats and Kraken pongs carry later sequence numbers)
 * is held and sent, in order, after the tape, except Kraken's `pong` and `heartbeat`, which carry no
 * sequence and go out at once: the gateway's Kraken session pings at the application level and
 * declares the connection dead after 5 s of silence, and holding them through a long render (a
 * 50-symbol rung renders for more than 5 s) made it reconnect to a new socket the tape never
 * played to (the Kraken feed "never reached the gateway" in the 50-symbol rig; the gateway was
 * right). A tape played later than planned (`at` after `startAt`: rendering took longer) carries
 * event times that much earlier than its sending. `closedTracks` counts the connections that
 * closed before the tape finished (the rig refuses such a rung).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import type { VenueName } from '../../src/apps/market/types.js';

interface Track {
  ws: WebSocket;
  stream: Duplex;
  send: WebSocket['send'];
  /** Messages the connection sent while taken over: first the tape, then what is held. */
  texts: string[];
  frames: Buffer;
  /** ends[i]: the byte offset just after frame i. */
  ends: Float64Array;
}

const now = () => performance.timeOrigin + performance.now();

/** Keep-alive replies with no venue sequence, sent at once rather than held behind the tape. */
const unsequenced = (text: string) => text.startsWith('{"method":"pong"') || text === '{"channel":"heartbeat"}';

/** An unmasked final text frame's header for a payload of `n` bytes, written at `at`. */
function writeHeader(buf: Buffer, at: number, n: number): number {
  buf[at] = 0x81;
  if (n < 126) {
    buf[at + 1] = n;
    return at + 2;
  }
  if (n < 65_536) {
    buf[at + 1] = 126;
    buf.writeUInt16BE(n, at + 2);
    return at + 4;
  }
  buf[at + 1] = 127;
  buf.writeBigUInt64BE(BigInt(n), at + 2);
  return at + 10;
}

const headerBytes = (n: number) => (n < 126 ? 2 : n < 65_536 ? 4 : 10);

export class FeedTape {
  private tracks: Track[] = [];
  private startAt = 0;
  private msPerMsg = 1;
  /** Messages per client on the tape, and how many have been written. */
  total = 0;
  played = 0;
  /** The most a write ran behind its messages' planned time (timer lateness on a loaded machine). */
  maxLagMs = 0;
  renderMs = 0;
  /** Connections the tape was rendered for that closed before it was fully played. */
  closedTracks = 0;

  constructor(private readonly sim: VenueSimulator, private readonly venue: VenueName) {}

  render(messages: number, ratePerSec: number, startAt: number): void {
    const t0 = performance.now();
    const market = this.sim.market;
    market.stop();
    this.tracks = this.sim.clients(this.venue).map(({ ws, stream }) => {
      const track: Track = { ws, stream, send: ws.send, texts: [], frames: Buffer.alloc(0), ends: new Float64Array(0) };
      ws.send = ((data: unknown) => {
        const text = String(data);
        if (unsequenced(text)) Reflect.apply(track.send, ws, [text]);
        else track.texts.push(text);
      }) as WebSocket['send'];
      return track;
    });
    const first = this.tracks[0];
    if (!first) throw new Error(`no ${this.venue} client to play a tape to`);
    this.startAt = startAt;
    this.msPerMsg = 1000 / ratePerSec;
    market.clock = () => startAt + first.texts.length * this.msPerMsg;
    while (first.texts.length < messages) market.step(1);
    market.clock = null;
    this.total = messages;
    this.played = 0;
    this.maxLagMs = 0;
    for (const t of this.tracks) {
      const tape = t.texts.splice(0, messages);
      let bytes = 0;
      for (const text of tape) {
        const n = Buffer.byteLength(text);
        bytes += headerBytes(n) + n;
      }
      t.frames = Buffer.allocUnsafe(bytes);
      t.ends = new Float64Array(tape.length);
      let at = 0;
      for (let i = 0; i < tape.length; i++) {
        at = writeHeader(t.frames, at, Buffer.byteLength(tape[i]));
        at += t.frames.write(tape[i], at);
        t.ends[i] = at;
      }
    }
    this.renderMs = performance.now() - t0;
  }

  /** Plays the tape from `at`; resolves when every message is written and the held ones sent. */
  play(at: number): Promise<void> {
    this.startAt = at;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const tick = () => {
        const t = now();
        const due = Math.min(this.total, Math.floor((t - this.startAt) / this.msPerMsg) + 1);
        if (due > this.played) {
          this.maxLagMs = Math.max(this.maxLagMs, t - (this.startAt + this.played * this.msPerMsg));
          for (const track of this.tracks) {
            if (track.ws.readyState !== track.ws.OPEN) continue;
            track.stream.write(track.frames.subarray(this.played === 0 ? 0 : track.ends[this.played - 1], track.ends[due - 1]));
          }
          this.played = due;
        }
        if (this.played < this.total) return;
        if (timer) clearInterval(timer);
        this.closedTracks = this.tracks.filter((t) => t.ws.readyState !== t.ws.OPEN).length;
        for (const track of this.tracks) {
          track.ws.send = track.send;
          for (const text of track.texts.splice(0)) if (track.ws.readyState === track.ws.OPEN) track.ws.send(text);
          track.frames = Buffer.alloc(0);
        }
        resolve();
      };
      setTimeout(() => (timer = setInterval(tick, 1)), Math.max(0, this.startAt - now()));
    });
  }

  /** Messages rendered but not yet written (the simulator's `sent` counter already counts them). */
  get unplayed(): number {
    return this.total - this.played;
  }
}
