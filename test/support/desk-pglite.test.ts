/**
 * The help desk's API and permissions on embedded PGlite (the default database).
 */
import { defineDeskSpecs } from './desk-spec.js';

defineDeskSpecs('PGlite', () => ({ databaseUrl: 'pglite://memory' }));
