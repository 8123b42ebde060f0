/**
 * @module web/hub/main
 * The hub inspector: watch any channel you may read, on the SDK (src/client), so it reconnects
 * with backoff and recovers missed messages; with the API key it lists namespaces and channels
 * with live counts and publishes as the server. Watched channels live in the URL (#chat:lobby).
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AppHeader } from '../shared/Header.js';
import { describeConnection, useHubClient } from '../shared/use-hub.js';
import { ChannelPanel } from './ChannelPanel.js';
import { Directory, useDirectory } from './Directory.js';

const KEY_STORE = 'airwaves.inspector.apiKey';
const TOKEN_STORE = 'airwaves.inspector.token';

const channelsFromHash = () => decodeURIComponent(location.hash.slice(1)).split(',').filter(Boolean);

function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function App() {
  const [apiKey, setApiKey] = useState(() => sessionStorage.getItem(KEY_STORE) ?? '');
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_STORE) ?? '');
  const hub = useHubClient(token || undefined);
  const now = useNow(500);
  const { directory, error } = useDirectory(apiKey);
  const [channels, setChannels] = useState<string[]>(channelsFromHash);
  const [active, setActive] = useState<string | null>(() => channelsFromHash()[0] ?? null);
  const [draft, setDraft] = useState('chat:lobby');

  useEffect(() => {
    history.replaceState(null, '', channels.length ? `#${channels.map(encodeURIComponent).join(',')}` : location.pathname);
  }, [channels]);

  const open = (channel: string) => {
    const name = channel.trim();
    if (!name) return;
    setChannels((list) => (list.includes(name) ? list : [...list, name]));
    setActive(name);
  };
  const close = (channel: string) => {
    const rest = channels.filter((c) => c !== channel);
    setChannels(rest);
    if (active === channel) setActive(rest[0] ?? null);
  };
  const namespaceOf = (channel: string) => directory?.namespaces.find((ns) => ns.name === channel.split(':')[0]);

  return (
    <>
      <AppHeader title="Hub inspector">
        <span className={`conn ${hub.state}`} data-testid="conn-state">{describeConnection(hub, now)}</span>
      </AppHeader>
      <div className="inspector">
        <aside>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              open(draft);
            }}
          >
            <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="namespace:channel" aria-label="channel" data-testid="channel-input" required />
            <button className="primary" data-testid="subscribe">Watch</button>
          </form>
          <details open={!apiKey}>
            <summary className="muted">Credentials</summary>
            <form
              style={{ display: 'grid', gap: 6, marginTop: 6 }}
              onSubmit={(e) => {
                e.preventDefault();
                const data = new FormData(e.currentTarget);
                const k = String(data.get('apiKey') ?? '').trim();
                const t = String(data.get('token') ?? '').trim();
                sessionStorage.setItem(KEY_STORE, k);
                sessionStorage.setItem(TOKEN_STORE, t);
                setApiKey(k);
                setToken(t);
              }}
            >
              <input name="apiKey" type="password" defaultValue={apiKey} placeholder="API key (channel list, server publish)" aria-label="API key" data-testid="api-key" autoComplete="off" />
              <input name="token" type="password" defaultValue={token} placeholder="client token (optional)" aria-label="client token" autoComplete="off" />
              <button data-testid="save-credentials">Use</button>
            </form>
          </details>
          <Directory directory={directory} error={error} hasKey={apiKey !== ''} onOpen={open} />
        </aside>
        <section>
          {channels.length > 1 && (
            <div className="tabs" role="tablist">
              {channels.map((c) => (
                <button key={c} role="tab" aria-selected={c === active} className={c === active ? 'active' : ''} onClick={() => setActive(c)}>
                  {c}
                </button>
              ))}
            </div>
          )}
          {channels.length === 0 && <p className="muted">Watch a channel (for example <code>chat:lobby</code>) to see its publications live.</p>}
          {hub.client &&
            channels.map((c) => (
              <ChannelPanel key={`${c}|${token}`} client={hub.client!} channel={c} ns={namespaceOf(c)} token={token} apiKey={apiKey} hidden={c !== active} onClose={() => close(c)} />
            ))}
        </section>
      </div>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
