/**
 * @module apps/studio/settings
 * The studio app's settings: the OpenAI-compatible endpoint it generates conversations with
 * (unset: the built-in offline generator).
 * Each has its environment variable, default and meaning; src/config.ts merges them with the
 * core's into the one configuration table and the README reference (`npm run docs:config`).
 * The app reads them on `ctx.config`.
 */
import { z } from 'zod';
import { type SettingFields, type SettingsOf } from '../../core/settings.js';

/** Field → [environment variable, schema with default, meaning, options]. */
export const STUDIO_SETTINGS = {
  llmBaseUrl: ['LLM_BASE_URL', z.string().url().optional(), 'OpenAI-compatible endpoint (POST <url>/v1/chat/completions) for studio generation; unset uses the built-in offline generator'],
  llmModel: ['LLM_MODEL', z.string().min(1).default('gpt-4o-mini'), 'model name sent to LLM_BASE_URL'],
  llmApiKey: ['LLM_API_KEY', z.string().optional(), 'bearer token sent to LLM_BASE_URL', { secret: true }],
} as const satisfies SettingFields;

export type StudioConfig = SettingsOf<typeof STUDIO_SETTINGS>;
