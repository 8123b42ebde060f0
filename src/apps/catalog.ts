/**
 * @module apps/catalog
 * Loads only the apps a server runs. Importing every app's module graph (PGlite, Kysely, the
 * radio synthesizer, the market pipeline…) costs about 0.6 s of CPU and 35 MB of RSS before
 * anything starts, so a hub-only server (`AIRWAVES_APPS=`) must not import them at all; the
 * static list in apps/index.ts stays for tools and tests that want every app.
 */
import { APP_NAMES, type AppName } from '../core/config.js';
import type { AirwavesApp } from './app.js';

const loaders: Record<AppName, () => Promise<AirwavesApp>> = {
  support: async () => (await import('./support/index.js')).supportApp,
  radio: async () => (await import('./radio/index.js')).radioApp,
  studio: async () => (await import('./studio/index.js')).studioApp,
  market: async () => (await import('./market/index.js')).marketApp,
  live: async () => (await import('./live/index.js')).liveApp,
};

/** The enabled app names, in start order (the order of APP_NAMES, as in apps/index.ts). */
export function enabledApps(names: readonly string[]): AppName[] {
  return APP_NAMES.filter((name) => names.includes(name));
}

/** One app's module, imported on demand. */
export function loadApp(name: AppName): Promise<AirwavesApp> {
  return loaders[name]();
}

/** The named apps, in start order, each imported on demand. */
export async function loadApps(names: readonly string[]): Promise<AirwavesApp[]> {
  return Promise.all(enabledApps(names).map(loadApp));
}
