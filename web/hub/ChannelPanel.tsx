/**
 * @module web/hub/ChannelPanel
 * One watched channel: its live publications (pretty-printed, wrapped), recovery after a
 * reconnect, history, presence, and a publish form where the namespace allows one.
 */
import { useEffect, useRef, useState } from 'react';
import type { AirwavesClient, SubscriptionState } from '../../src/client/index.js';
import { publishAsServer, type NamespaceInfo } from './admin-api.js';

const MAX_ENTRIES = 500;

interface Entry {
  key: number;
  kind: 'live' | 'history' | 'system';
  meta: string;
  text: string;
}

let nextKey = 1;
const time = (ts: number) => new Date(ts).toISOString().slice(11, 23);
const pretty = (data: unknown) => JSON.stringify(data, null, 2) ?? String(data);

/** How this page may publish on the channel, or why it may not. */
export function publishRoute(ns: NamespaceInfo | undefined, hasToken: boolean, hasKey: boolean): { via: 'client' | 'server' | null; why: string } {
  if (ns?.binary) return { via: null, why: 'binary namespace: publish media from the server' };
  if (!ns || ns.publish === 'anonymous' || (ns.publish === 'authenticated' && hasToken)) return { via: 'client', why: 'as this connection' };
  if (hasKey) return { via: 'server', why: 'as the server (POST /api/v1/publish with the API key)' };
  return { via: null, why: ns.publish === 'server' ? 'only the server publishes here: enter the API key to publish as the server' : 'signed-in clients only: enter a token or the API key' };
}

export function ChannelPanel(props: { client: AirwavesClient; channel: string; ns: NamespaceInfo | undefined; token: string; apiKey: string; hidden: boolean; onClose: () => void }) {
  const { client, channel, ns, token, apiKey, hidden, onClose } = props;
  const [entries, setEntries] = useState<Entry[]>([]);
  const [state, setState] = useState<SubscriptionState>('pending');
  const [presence, setPresence] = useState<string | null>(null);
  const [error, setError] = useState('');
  const add = useRef((e: Omit<Entry, 'key'>) => setEntries((list) => [{ ...e, key: nextKey++ }, ...list].slice(0, MAX_ENTRIES)));

  useEffect(() => {
    const add1 = add.current;
    const sub = client.subscribe(channel, {
      publication: (p) => add1({ kind: 'live', meta: `#${p.offset} ${time(p.ts)}`, text: pretty(p.data) }),
      binary: (b) => add1({ kind: 'live', meta: `#${b.offset} ${time(b.ts)}`, text: `[binary, ${b.payload.byteLength} bytes]` }),
      join: (e) => add1({ kind: 'system', meta: 'join', text: `${e.info.user ?? 'anonymous'} (${e.info.client})` }),
      leave: (e) => add1({ kind: 'system', meta: 'leave', text: `${e.info.user ?? 'anonymous'} (${e.info.client})` }),
      recovered: (r) =>
        add1({ kind: 'system', meta: 'resubscribed', text: r.recovered ? `recovered after the reconnect: ${r.replayed} missed message(s) replayed below` : 'resubscribed, but some messages were lost (older than the history): the view may have a gap' }),
      unsubscribed: (u) => add1({ kind: 'system', meta: 'ended', text: `the server ended this subscription: ${u.reason}` }),
      error: (e) => setError(`${e.code}: ${e.message}`),
    });
    const track = () => setState(sub.state);
    sub.ready.then(track, (e: Error) => {
      track();
      setError(e.message);
    });
    const refresh = () => setState(sub.state);
    client.on('connected', refresh).on('disconnected', refresh);
    return () => {
      client.off('connected', refresh);
      client.off('disconnected', refresh);
      void sub.unsubscribe().catch(() => {});
    };
  }, [client, channel]);

  const loadHistory = async () => {
    setError('');
    try {
      const h = await client.history(channel, { limit: 50 });
      add.current({ kind: 'system', meta: 'history', text: `${h.publications.length} message(s) in history (newest offset ${h.offset}, epoch ${h.epoch})` });
      for (const p of h.publications) add.current({ kind: 'history', meta: `#${p.offset} ${time(p.ts)} · history`, text: pretty(p.data) });
    } catch (e) {
      setError(`history: ${(e as Error).message}`);
    }
  };

  const loadPresence = async () => {
    setError('');
    try {
      const p = await client.presence(channel);
      setPresence(p.clients.length ? p.clients.map((c) => c.user ?? `anonymous (${c.client})`).join(', ') : 'nobody');
    } catch (e) {
      setError(`presence: ${(e as Error).message}`);
    }
  };

  const route = publishRoute(ns, token !== '', apiKey !== '');
  const [draft, setDraft] = useState('{\n  "text": "hello"\n}');
  const [sent, setSent] = useState('');
  const publish = async () => {
    setError('');
    setSent('');
    let data: unknown;
    try {
      data = JSON.parse(draft);
    } catch (e) {
      setError(`not JSON: ${(e as Error).message}`);
      return;
    }
    try {
      const ack = route.via === 'server' ? await publishAsServer(apiKey, channel, data) : await client.publish(channel, data);
      setSent('offset' in ack ? `published at offset ${ack.offset}` : 'published');
    } catch (e) {
      setError(`publish: ${(e as Error).message}`);
    }
  };

  return (
    <div hidden={hidden} data-testid="channel-panel" data-channel={channel} style={{ display: hidden ? 'none' : 'grid', gap: 10 }}>
      <div className="row">
        <strong className="aw-wrap">{channel}</strong>
        <span className="badge" data-testid="sub-state">{state}</span>
        <span className="aw-spacer" style={{ flex: 1 }} />
        <button type="button" onClick={() => void loadHistory()} data-testid="history">History</button>
        <button type="button" onClick={() => void loadPresence()} disabled={ns ? !ns.presence : false} title={ns && !ns.presence ? 'presence is off for this namespace' : undefined}>
          Presence
        </button>
        <button type="button" onClick={onClose} data-testid="unsubscribe">Unsubscribe</button>
      </div>
      {presence !== null && <div className="muted" data-testid="presence">Present: {presence}</div>}
      {error && <div className="aw-error" role="alert" data-testid="error">{error}</div>}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void publish();
        }}
      >
        <textarea rows={3} value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="message (JSON)" disabled={!route.via} data-testid="publish-body" />
        <button type="submit" disabled={!route.via} data-testid="publish">Publish</button>
        <span className="muted" style={{ fontSize: 12 }}>{route.via ? `publishes ${route.why}` : route.why}</span>
        {sent && <span className="muted" data-testid="published">{sent}</span>}
      </form>
      <div className="log" aria-live="polite" data-testid="log">
        {entries.length === 0 && <div className="muted">Waiting for publications… (History shows what came before.)</div>}
        {entries.map((e) => (
          <div key={e.key} className={`entry ${e.kind}`} data-testid={`entry-${e.kind}`}>
            <span className="meta">{e.meta}</span>
            <pre className="aw-wrap">{e.text}</pre>
          </div>
        ))}
      </div>
    </div>
  );
}
