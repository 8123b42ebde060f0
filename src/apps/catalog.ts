/**
 * @module apps/catalog
 * The apps a server can run: what is known of each before it loads (its manifest: name, title,
 * API segment, hub namespaces) and its module, imported on demand. Importing every app's module
 * graph (PGlite, Kysely, the radio synthesizer, the market pipeline…) costs about 0.6 s of CPU
 * and 35 MB of RSS before anything starts, so a hub-only server (`AIRWAVES_APPS=`) must not
 * import them at all, and a server that serves while starting imports them behind the open port;
 * the static list in apps/index.ts stays for tools and tests that want every app.
 */
import { APP_NAMES, type AppName } from '../core/config.js';
import { apiSegmentOf, type AirwavesApp, type AppManifest } from './app.js';
import { supportManifest } from './support/manifest.js';
import { radioManifest } from './radio/manifest.js';
import { studioManifest } from './studio/manifest.js';
import { marketManifest } from './market/manifest.js';
import { liveManifest } from './live/manifest.js';

export const APP_MANIFESTS: Record<AppName, AppManifest> = {
  support: supportManifest,
  radio: radioManifest,
  studio: studioManifest,
  market: marketManifest,
  live: liveManifest,
};

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

/** The enabled apps' manifests, in start order. */
export function appManifests(names: readonly string[]): AppManifest[] {
  return enabledApps(names).map((name) => APP_MANIFESTS[name]);
}

/** One app's module, imported on demand; it must be the app its manifest describes (the server routes by it). */
export async function loadApp(name: AppName): Promise<AirwavesApp> {
  const app = await loaders[name]();
  const manifest = APP_MANIFESTS[name];
  if (app.name !== manifest.name || apiSegmentOf(app) !== apiSegmentOf(manifest)) {
    throw new Error(`app module "${app.name}" (/api/v1/${apiSegmentOf(app)}) does not match its manifest "${manifest.name}" (/api/v1/${apiSegmentOf(manifest)})`);
  }
  return app;
}

/** The named apps, in start order, each imported on demand. */
export async function loadApps(names: readonly string[]): Promise<AirwavesApp[]> {
  return Promise.all(enabledApps(names).map(loadApp));
}
