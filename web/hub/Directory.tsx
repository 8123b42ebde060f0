/**
 * @module web/hub/Directory
 * Namespaces and channels of this node with live counts (polled every 2 s with the admin key);
 * a click subscribes.
 */
import { useEffect, useState } from 'react';
import { fetchDirectory, type Directory as DirectoryData } from './admin-api.js';

const POLL_MS = 2000;

export function useDirectory(apiKey: string): { directory: DirectoryData | null; error: string } {
  const [directory, setDirectory] = useState<DirectoryData | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    setDirectory(null);
    setError('');
    if (!apiKey) return;
    let stopped = false;
    const tick = async () => {
      try {
        const d = await fetchDirectory(apiKey);
        if (!stopped) {
          setDirectory(d);
          setError('');
        }
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [apiKey]);
  return { directory, error };
}

export function Directory({ directory, error, hasKey, onOpen }: { directory: DirectoryData | null; error: string; hasKey: boolean; onOpen: (channel: string) => void }) {
  if (!hasKey) return <p className="muted">Enter the API key (AIRWAVES_API_KEY) above to list namespaces and channels with live counts.</p>;
  if (error) return <div className="aw-error" role="alert">{error}</div>;
  if (!directory) return <p className="muted">loading…</p>;
  return (
    <>
      <div>
        <h2>Namespaces</h2>
        <table data-testid="namespaces">
          <thead>
            <tr><th>name</th><th>read / write</th><th className="n">channels</th><th className="n">subs</th></tr>
          </thead>
          <tbody>
            {directory.namespaces.map((ns) => (
              <tr key={ns.name} data-namespace={ns.name}>
                <td>{ns.name}</td>
                <td className="muted">{ns.subscribe} / {ns.publish}{ns.binary ? ' · binary' : ''}{ns.presence ? ' · presence' : ''}</td>
                <td className="n">{ns.channels}</td>
                <td className="n">{ns.subscribers}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div>
        <h2>Channels on {directory.node} ({directory.totalChannels})</h2>
        {directory.channels.length === 0 ? (
          <p className="muted">No channel has subscribers on this node yet.</p>
        ) : (
          <table data-testid="channels">
            <thead>
              <tr><th>channel</th><th className="n">subs</th><th /></tr>
            </thead>
            <tbody>
              {directory.channels.map((c) => (
                <tr key={c.channel} data-channel={c.channel}>
                  <td>{c.channel}</td>
                  <td className="n" data-testid="channel-subscribers">{c.subscribers}</td>
                  <td><button type="button" onClick={() => onOpen(c.channel)}>watch</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
