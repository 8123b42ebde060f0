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
  // A small job is often over before this page has connected, so the subscription starts one
  // publication behind the live edge (`rewind: 1`): the latest progress first, then the rest, in
  // offset order. A separate `history` read raced the subscription: its answer could come after a
  // newer push and overwrite it, and a read that timed out while connecting was lost for good;
  // the subscription's own read is retried with it on every (re)connect.
  client.subscribe(channel, { publication: (p) => onProgress(p.data as JobProgress) }, { rewind: 1 });
  void client.connect().catch(() => {
    // The SDK keeps reconnecting with back-off; progress resumes from the channel's history.
  });
  return () => client.close();
}
