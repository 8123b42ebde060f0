/**
 * @module client/emitter
 * A tiny typed event emitter, browser-safe (node:events is not available in browsers).
 */

export type Listener<T> = (payload: T) => void;

interface ListenerRecord {
  fn: Listener<never>;
  once: boolean;
}

/**
 * A minimal typed event emitter. Unlike Node's EventEmitter an `error` event without listeners is
 * ignored, and a listener that throws does not disturb the other listeners or the client: the
 * exception is re-thrown asynchronously (like EventTarget's error reporting).
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, ListenerRecord[]>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, false);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, true);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const i = list.findIndex((r) => r.fn === listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` in registration order. Returns whether there were any. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const record of [...list]) {
      if (record.once) {
        const i = list.indexOf(record);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#listeners.delete(event);
      }
      try {
        (record.fn as Listener<Events[K]>)(payload);
      } catch (err) {
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
    return true;
  }

  #add<K extends keyof Events>(event: K, listener: Listener<Events[K]>, once: boolean): this {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push({ fn: listener as Listener<never>, once });
    return this;
  }
}
