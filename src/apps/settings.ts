/**
 * @module apps/settings
 * Every app's settings, in start order (APP_NAMES). Each app declares its own in
 * src/apps/<app>/settings.ts; this list is what src/config.ts merges with the core's. Settings
 * modules are small and import no app code, so reading the configuration never loads an app
 * (apps/catalog loads only the apps a server runs).
 */
import type { SettingFields } from '../core/settings.js';
import { SUPPORT_SETTINGS } from './support/settings.js';
import { RADIO_SETTINGS } from './radio/settings.js';
import { STUDIO_SETTINGS } from './studio/settings.js';
import { MARKET_SETTINGS } from './market/settings.js';
import { LIVE_SETTINGS } from './live/settings.js';

export const APP_SETTINGS = [SUPPORT_SETTINGS, RADIO_SETTINGS, STUDIO_SETTINGS, MARKET_SETTINGS, LIVE_SETTINGS] as const satisfies readonly SettingFields[];
