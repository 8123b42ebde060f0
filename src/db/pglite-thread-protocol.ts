/**
 * @module db/pglite-thread-protocol
 * The messages between db/pglite-thread (main thread) and db/pglite-thread-worker. Rows and
 * parameters cross by structured clone, which keeps what PGlite's parsers produce (Date, bigint,
 * Uint8Array, parsed JSON); errors cross as their fields, so a PostgreSQL error keeps its SQLSTATE
 * `code`, `detail`, `constraint`… on the main thread.
 */
import type { PGlite } from '@electric-sql/pglite';

export type DumpCompression = Parameters<PGlite['dumpDataDir']>[0];

export interface ThreadOptions {
  /** The data directory, or null for an in-memory database. */
  dir: string | null;
}

export type ToThread =
  | { op: 'query'; id: number; sql: string; params: unknown[] }
  | { op: 'dump'; id: number; compression: DumpCompression }
  | { op: 'close'; id: number };

/** An error's message, name and every primitive field (PostgreSQL's code, detail, constraint…). */
export type ErrorFields = Record<string, string | number | boolean | null> & { message: string; name: string };

export type FromThread =
  | { type: 'ready' }
  | { type: 'open-failed'; error: ErrorFields }
  | { type: 'result'; id: number; rows: Record<string, unknown>[]; affectedRows?: number }
  | { type: 'dump'; id: number; bytes: ArrayBuffer }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; error: ErrorFields };

export function errorFields(err: unknown): ErrorFields {
  const fields: ErrorFields = { message: String(err), name: 'Error' };
  if (typeof err !== 'object' || err === null) return fields;
  for (const [key, value] of Object.entries(err)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value as string | number | boolean | null;
  }
  fields.message = (err as Error).message ?? fields.message;
  fields.name = (err as Error).name ?? 'Error';
  return fields;
}
