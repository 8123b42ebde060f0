/**
 * @module web/studio/jobs
 * Live job progress over the hub, through the SDK (reconnects with back-off and recovers from
 * its offset): a subscription to `studio:job:<id>` with the signed-in token.
 */
import { AirwavesClient } from '../../src/client/index.js';
import { authToken } from '../shared/auth.js';
import { hubUrl } from '../shared/hub-url.js';

export interface JobProgress {
  id: string;
  status: string;
  requested: number;
  completed: number;
  failed: number;
  error: string | null;
}

export function watchJob(channel: string, onProgress: (p: JobProgress) => void): () => void {
  // The studio namespace is closed to anonymous clients: the signed-in token carries `studio:*`.
  const client = new AirwavesClient({ url: hubUrl(), token: authToken() ?? undefined });
  client.subscribe(channel, { publication: (p) => onProgress(p.data as JobProgress) });
  void client.connect().catch(() => {
    // The SDK keeps reconnecting with back-off; progress resumes from the channel's history.
  });
  // The latest message, in case the job moved before we subscribed.
  void client.history(channel, { limit: 1 }).then(
    (h) => {
      const last = h.publications.at(-1);
      if (last) onProgress(last.data as JobProgress);
    },
    () => {},
  );
  return () => client.close();
}
