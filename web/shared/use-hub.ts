/**
 * @module web/shared/use-hub
 * React hooks over the SDK (src/client) that every UI uses: one client per token with its live
 * state and the next reconnection attempt, and a subscription tied to a component's lifetime.
 */
import { useEffect, useRef, useState } from 'react';
import { AirwavesClient, type ClientState, type Publication, type RecoveredEvent } from '../../src/client/index.js';
import { hubUrl } from './hub-url.js';

export interface HubConnection {
  client: AirwavesClient | null;
  state: ClientState;
  /** Set while a reconnection is scheduled: which attempt and when (epoch ms). */
  retry: { attempt: number; at: number } | null;
}

/** One SDK client for `token` (undefined: anonymous); a new token means a new client. */
export function useHubClient(token: string | undefined): HubConnection {
  // Made inside the effect (not useMemo) so a strict-mode remount gets a fresh client, not a closed one.
  const [client, setClient] = useState<AirwavesClient | null>(null);
  const [state, setState] = useState<ClientState>('idle');
  const [retry, setRetry] = useState<HubConnection['retry']>(null);
  useEffect(() => {
    const c = new AirwavesClient({ url: hubUrl(), token });
    const update = () => setState(c.state);
    c.on('connected', () => {
      setRetry(null);
      update();
    })
      .on('disconnected', update)
      .on('reconnecting', ({ attempt, delayMs }) => {
        setRetry({ attempt, at: Date.now() + delayMs });
        update();
      });
    setClient(c);
    c.connect().then(update, update);
    return () => c.close();
  }, [token]);
  return { client, state, retry };
}

/** Subscribes for the component's lifetime; the handlers may change without resubscribing. */
export function useChannel(client: AirwavesClient | null, channel: string | null, onPublication: (p: Publication) => void, onRecovered?: (r: RecoveredEvent) => void): void {
  const handler = useRef(onPublication);
  handler.current = onPublication;
  const recovered = useRef(onRecovered);
  recovered.current = onRecovered;
  useEffect(() => {
    if (!channel || !client) return;
    const sub = client.subscribe(channel, {
      publication: (p: Publication) => handler.current(p),
      recovered: (r) => recovered.current?.(r),
    });
    return () => void sub.unsubscribe().catch(() => {});
  }, [client, channel]);
}

/** "reconnecting in 3 s (attempt 4)" while a retry is scheduled, else the state itself. */
export function describeConnection({ state, retry }: Pick<HubConnection, 'state' | 'retry'>, now = Date.now()): string {
  if (state === 'reconnecting' && retry) return `reconnecting in ${Math.max(0, Math.ceil((retry.at - now) / 1000))} s (attempt ${retry.attempt})`;
  return state;
}
