/**
 * @module db/pglite-thread-worker
 * The worker side of db/pglite-thread: owns one PGlite instance (a data directory, or memory) and
 * answers the main thread's queries, so PGlite's WebAssembly (initdb on a first start, the
 * compile, every statement) never runs on the thread that serves HTTP and WebSockets.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite-open.js';
import { errorFields, type FromThread, type ThreadOptions, type ToThread } from './pglite-thread-protocol.js';

const port = parentPort!;
const options = workerData as ThreadOptions;
const post = (msg: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function open(): Promise<PGlite | null> {
  try {
    const pglite = new PGlite(options.dir ?? undefined, { startParams: PGLITE_START_PARAMS });
    await pglite.waitReady;
    await pglite.query('select 1');
    return pglite;
  } catch (err) {
    post({ type: 'open-failed', error: errorFields(err) });
    return null;
  }
}

async function answer(pglite: PGlite, msg: ToThread): Promise<void> {
  try {
    if (msg.op === 'query') {
      const result = await pglite.query(msg.sql, msg.params);
      post({ type: 'result', id: msg.id, rows: result.rows as Record<string, unknown>[], affectedRows: result.affectedRows });
    } else if (msg.op === 'dump') {
      const blob = await pglite.dumpDataDir(msg.compression);
      const bytes = await blob.arrayBuffer();
      post({ type: 'dump', id: msg.id, bytes }, [bytes]);
    } else {
      await pglite.close();
      post({ type: 'closed', id: msg.id });
      port.close();
    }
  } catch (err) {
    post({ type: 'error', id: msg.id, error: errorFields(err) });
  }
}

const pglite = await open();
if (pglite) {
  // PGlite runs one statement at a time itself; requests are answered as each settles.
  port.on('message', (msg: ToThread) => void answer(pglite, msg));
  post({ type: 'ready' });
}
