/**
 * @module apps/support/settings
 * The help desk's settings: how often its outbox relay scans the table.
 * Each has its environment variable, default and meaning; src/config.ts merges them with the
 * core's into the one configuration table and the README reference (`npm run docs:config`).
 * The app reads them on `ctx.config`.
 */
import { z } from 'zod';
import type { SettingFields, SettingsOf } from '../../core/settings.js';

/** Field → [environment variable, schema with default, meaning, options]. */
export const SUPPORT_SETTINGS = {
  supportOutboxPollMs: [
    'AIRWAVES_SUPPORT_OUTBOX_POLL_MS',
    z.coerce.number().int().min(50).max(600_000).default(1000),
    "how often the help desk's outbox relay scans its table for events nobody handed it: left by a crash between commit and append, by a failed append, or by another node that went away (ms). Events committed on this node are appended at commit, not on this poll. On the embedded database this period applies after a write; with nothing written since an empty scan, it scans once a minute",
  ],
} as const satisfies SettingFields;

export type SupportConfig = SettingsOf<typeof SUPPORT_SETTINGS>;
