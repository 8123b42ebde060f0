/**
 * @module client/presence-sync
 * Keeps an app's member list right across the client's own reconnects. Join and leave pushes
 * reach only a subscribed socket: while the client is away (a dropped socket, a resubscribe after
 * a `gap`) the ones sent meanwhile are lost. For a subscription with presence interest — created
 * with `{ presence: true }`, or whose channel the app read with `client.presence()` — the SDK
 * keeps the member set the app has been told (the last read plus the pushes since), re-reads
 * `presence` after every resubscription, and tells the difference as `leave` and `join` events
 * marked `resync: true`, then one `presenceSync` event with the full set.
 *
 * Why both: Phoenix's JS Presence does the same (a new `presence_state` is diffed against the
 * known one into `onJoin`/`onLeave` callbacks, then `onSync`), so apps whose join/leave handlers
 * add to and remove from a list stay right with no new code; Centrifugo leaves it to the app to
 * call `presence` after a resubscription — `presenceSync` carries that full list for apps that
 * prefer to replace theirs.
 *
 * Pushes and a read race: a push heard while a read is in flight may or may not be in its
 * answer. The set taken from a read is its answer with the pushes heard meanwhile applied on
 * top, in order: a join twice or a leave of someone absent changes nothing, so either way the
 * result is the newer state.
 */
import type { PresenceEntry } from '../protocol/index.js';
import type { AirwavesClientError } from './codes.js';
import type { Subscription } from './subscription.js';
import type { PresenceEvent, PresenceResult } from './types.js';

type Heard = { event: 'join' | 'leave'; info: PresenceEntry };

/** Errors after which the next resubscription reads again anyway: say nothing. */
const TRANSIENT = new Set(['disconnected', 'closed', 'unsubscribed']);

/** The member set of one subscription, as told to the app. */
export class PresenceSync {
  /** What the app has been told; undefined until the first read answers. */
  #members: Map<string, PresenceEntry> | undefined;
  /** Pushes heard while reads are in flight (cleared when none is). */
  #heard: Heard[] = [];
  #readsInFlight = 0;
  /** An SDK re-read is running; `#again`: another was asked for meanwhile. */
  #syncing = false;
  #again = false;
  /** The namespace has no presence (`presence_disabled`): nothing to keep. */
  #off = false;

  constructor(
    private readonly sub: Subscription,
    private readonly readPresence: () => Promise<PresenceResult>,
  ) {
    const heard = (event: 'join' | 'leave') => (e: PresenceEvent) => {
      if (!e.resync) this.#hear({ event, info: e.info });
    };
    sub.on('join', heard('join'));
    sub.on('leave', heard('leave'));
    // Every resubscription (a reconnect, a gap) may have missed pushes.
    sub.on('recovered', () => this.resync());
  }

  /**
   * The app's own `client.presence(channel)`: answered as asked, and its answer (with the pushes
   * heard meanwhile) becomes the set later re-reads are compared with.
   */
  async read(): Promise<PresenceResult> {
    const { result, members } = await this.#readWithHeard();
    this.#members = members;
    return result;
  }

  /** `{ presence: true }`: the first read (every member told as a `join`) once the subscribe answers. */
  syncOnceReady(): void {
    this.sub.ready.then(
      () => this.resync(),
      () => {},
    );
  }

  /** Re-reads presence and tells the app the difference; one re-read at a time, the last ask wins. */
  resync(): void {
    if (this.#off) return;
    if (this.#syncing) {
      this.#again = true;
      return;
    }
    this.#syncing = true;
    void this.#syncOnce().finally(() => {
      this.#syncing = false;
      if (this.#again && this.sub.state !== 'closed') {
        this.#again = false;
        this.resync();
      }
    });
  }

  async #syncOnce(): Promise<void> {
    let members: Map<string, PresenceEntry>;
    try {
      ({ members } = await this.#readWithHeard());
    } catch (err) {
      const code = (err as AirwavesClientError).code;
      if (code === 'presence_disabled') this.#off = true;
      if (!TRANSIENT.has(code) && this.sub.state !== 'closed') this.sub.emit('error', err as AirwavesClientError);
      return;
    }
    if (this.sub.state === 'closed') return;
    const told = this.#members ?? new Map<string, PresenceEntry>();
    this.#members = members;
    const channel = this.sub.channel;
    const left = [...told.values()].filter((e) => !members.has(e.client));
    const joined = [...members.values()].filter((e) => !told.has(e.client));
    for (const info of left) this.sub.emit('leave', { channel, info, resync: true });
    for (const info of joined) this.sub.emit('join', { channel, info, resync: true });
    this.sub.emit('presenceSync', { channel, clients: [...members.values()], joined, left });
  }

  /** One read, and the set it gives: its answer with the pushes heard while it was in flight applied on top. */
  async #readWithHeard(): Promise<{ result: PresenceResult; members: Map<string, PresenceEntry> }> {
    const from = this.#heard.length;
    this.#readsInFlight++;
    try {
      const result = await this.readPresence();
      const members = new Map(result.clients.map((e) => [e.client, e]));
      for (const h of this.#heard.slice(from)) apply(members, h);
      return { result, members };
    } finally {
      if (--this.#readsInFlight === 0) this.#heard = [];
    }
  }

  #hear(h: Heard): void {
    if (this.#members) apply(this.#members, h);
    if (this.#readsInFlight > 0) this.#heard.push(h);
  }
}

const syncs = new WeakMap<Subscription, PresenceSync>();

/** The member set kept for `sub`, made on first use; `readPresence` reads its channel's presence. */
export function presenceSyncOf(sub: Subscription, readPresence: () => Promise<PresenceResult>): PresenceSync {
  let sync = syncs.get(sub);
  if (!sync) syncs.set(sub, (sync = new PresenceSync(sub, readPresence)));
  return sync;
}

function apply(members: Map<string, PresenceEntry>, { event, info }: Heard): void {
  if (event === 'join') members.set(info.client, info);
  else members.delete(info.client);
}
