/**
 * The help desk's API and permissions on a real PostgreSQL 15 (throwaway cluster), the same
 * specification as on PGlite.
 */
import { before, after } from 'node:test';
import { defineDeskSpecs } from './desk-spec.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';

let pg: PostgresInstance | undefined;
before(async () => {
  pg = await startPostgres({ database: 'support_desk' });
});
after(async () => {
  await pg?.stop();
});

defineDeskSpecs('PostgreSQL', () => ({ databaseUrl: pg!.url }));
