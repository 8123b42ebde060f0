/**
 * @module config
 * The one configuration table: the core's settings (core/config) and every app's
 * (src/apps/<app>/settings.ts), merged. Read once at start from `AIRWAVES_*` environment
 * variables and the optional JSON file `AIRWAVES_CONFIG`; every bad field is reported with the
 * variable that set it and what was expected. The README reference is generated from this table
 * (`npm run docs:config`). Lives in the composition root because it knows every app.
 */
import { CORE_SETTINGS } from './core/config.js';
import { loadSettings, mergeSettings, settingsReference, type SettingsOf } from './core/settings.js';
import { APP_SETTINGS } from './apps/settings.js';

export { ConfigError } from './core/settings.js';
export { clusterProblems, primaryRedisUrl } from './core/config.js';

/** Field → [environment variable, schema, meaning, options], core first, then each app's. */
export const CONFIG_FIELDS = mergeSettings(CORE_SETTINGS, ...APP_SETTINGS);

export type AirwavesConfig = SettingsOf<typeof CONFIG_FIELDS>;

/**
 * Builds the configuration from `env` (default process.env) and the file named by
 * `AIRWAVES_CONFIG`; environment wins over file, explicit `overrides` win over both.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AirwavesConfig> = {}): AirwavesConfig {
  return loadSettings(CONFIG_FIELDS, env, overrides);
}

/** The configuration reference as Markdown (README.md, between the config markers). */
export function configReference(): string {
  return settingsReference(CONFIG_FIELDS);
}
