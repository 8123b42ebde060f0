/**
 * @module web/studio/jobs
 * Live job progress over the hub: a WebSocket speaking Airwaves protocol v1, subscribed to
 * `studio:job:<id>`, reconnecting with back-off.
 */
export interface JobProgress {
  id: string;
  status: string;
  requested: number;
  completed: number;
  failed: number;
  error: string | null;
}

export function watchJob(channel: string, onProgress: (p: JobProgress) => void): () => void {
  let ws: WebSocket | null = null;
  let closed = false;
  let retry = 500;
  const open = () => {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.onopen = () => {
      retry = 500;
      ws!.send(JSON.stringify({ id: 1, op: 'subscribe', channel }));
      // The latest message, in case the job moved before we subscribed.
      ws!.send(JSON.stringify({ id: 2, op: 'history', channel, limit: 1 }));
    };
    ws.onmessage = (e) => {
      for (const line of String(e.data).split('\n')) {
        const frame = JSON.parse(line) as { channel?: string; data?: JobProgress; id?: number; result?: { publications?: { data: JobProgress }[] } };
        if (frame.channel === channel && frame.data) onProgress(frame.data);
        const last = frame.result?.publications?.at(-1);
        if (frame.id === 2 && last) onProgress(last.data);
      }
    };
    ws.onclose = () => {
      if (!closed) setTimeout(open, (retry = Math.min(retry * 2, 10_000)));
    };
  };
  open();
  return () => {
    closed = true;
    ws?.close();
  };
}
