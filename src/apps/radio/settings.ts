/**
 * @module apps/radio/settings
 * The radio app's settings: whether its stations run, and which stations.
 * Each has its environment variable, default and meaning; src/config.ts merges them with the
 * core's into the one configuration table and the README reference (`npm run docs:config`).
 * The app reads them on `ctx.config`.
 */
import { z } from 'zod';
import { bool, type SettingFields, type SettingsOf } from '../../core/settings.js';

/** Field → [environment variable, schema with default, meaning, options]. */
export const RADIO_SETTINGS = {
  radioEnabled: ['AIRWAVES_RADIO_ENABLED', bool.default(true), 'run the radio app\'s stations (each composes and synthesises while anyone listens)'],
  radioRestAfterMs: ['AIRWAVES_RADIO_REST_AFTER_MS', z.coerce.number().int().min(1000).default(30_000), 'a station nobody has listened to for this long stops composing and synthesising until a listener asks for it (ms)'],
  radioStations: [
    'AIRWAVES_RADIO_STATIONS',
    z
      .array(z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and -'), seed: z.number().int().min(0).max(2 ** 31 - 1), mood: z.enum(['calm', 'dusk', 'drift']), title: z.string().max(80).optional() }))
      .min(1)
      .max(8)
      .refine((a) => new Set(a.map((s) => s.id)).size === a.length, 'station ids must be unique')
      .default([{ id: 'calm', seed: 7, mood: 'calm' }, { id: 'dusk', seed: 23, mood: 'dusk' }]),
    'radio stations (JSON array of {id, seed, mood: calm|dusk|drift, title?})',
    { json: true },
  ],
} as const satisfies SettingFields;

export type RadioConfig = SettingsOf<typeof RADIO_SETTINGS>;
