/**
 * @module web/live/api
 * The live UI's view of the REST API and the stream event door (browser code; imports nothing
 * from the server).
 */
export interface Stream {
  id: string;
  title: string;
  owner: string;
  status: 'PENDING' | 'ACTIVE' | 'COMPLETED' | 'FAILED';
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  viewers: number;
  peakViewers: number;
  width: number;
  height: number;
  codecs: string;
  failureReason: string | null;
  playback: { llhls: string; hls: string; dash: string; master: string };
}

export interface StreamKey {
  id: string;
  label: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  key?: string;
  ingestUrl?: string;
}

export interface Sample {
  at: string;
  viewers: number;
  bitrateKbps: number;
  fps: number;
  droppedFrames: number;
}

export type LiveEvent = { type: 'viewer_count_changed'; viewers: number; peak: number } | { type: 'stream_started' } | { type: 'stream_ended'; status: string } | { type: 'quality_changed'; width: number; height: number; bitrateKbps: number };

const TOKEN_KEY = 'airwaves.live.token';
export const token = {
  get: () => localStorage.getItem(TOKEN_KEY) ?? '',
  set: (t: string) => localStorage.setItem(TOKEN_KEY, t),
};

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token.get()) headers.authorization = `Bearer ${token.get()}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = (await res.json().catch(() => ({}))) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(data.error?.message ?? `HTTP ${res.status}`);
  return data;
}

/** Opens the stream's event door; reconnects after a second if it drops. Returns a closer. */
export function streamEvents(streamId: string, viewer: string, onEvent: (e: LiveEvent) => void): () => void {
  let ws: WebSocket | null = null;
  let closed = false;
  const open = () => {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${proto}://${location.host}/api/v1/streams/${streamId}/ws?viewer=${encodeURIComponent(viewer)}`);
    ws.onmessage = (m) => onEvent((JSON.parse(String(m.data)) as { data: LiveEvent }).data);
    ws.onclose = () => {
      if (!closed) setTimeout(open, 1000);
    };
  };
  open();
  return () => {
    closed = true;
    ws?.close();
  };
}
