/**
 * @module core/settings
 * How a setting is declared and read, for the core's settings (core/config) and every app's
 * (src/apps/<app>/settings.ts) alike: each field names its environment variable, its zod schema
 * (with the default) and its meaning. The composition root (src/config.ts) merges the groups into
 * the one configuration table; this module reads any such table from `AIRWAVES_*` environment
 * variables and the optional JSON file `AIRWAVES_CONFIG`, reports every bad field at once with the
 * variable that set it, and renders the table as the README reference.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { weakSecretReason } from './public-secrets.js';

/** How a variable's text is read, beyond "parse it with the schema". */
export interface SettingOptions {
  /** The environment value is JSON (an array or object), parsed before the schema sees it. */
  json?: boolean;
  /** The value is never echoed in an error message. */
  secret?: boolean;
  /** An empty variable means "none" rather than "unset" (`AIRWAVES_APPS=` runs the hub alone). */
  emptyMeansNone?: boolean;
}

/** One setting: [environment variable, schema with its default, meaning, options]. */
export type SettingField = readonly [variable: string, schema: z.ZodType, meaning: string, options?: SettingOptions];
/** A group of settings by field name (the name is also the key in the `AIRWAVES_CONFIG` file). */
export type SettingFields = Record<string, SettingField>;
/** The values a group of settings reads to. */
export type SettingsOf<F extends SettingFields> = { [K in keyof F]: z.output<F[K][1]> };

// Schemas settings share.
export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
/** A secret or key: long enough and never a value that appears in the docs (refused with exit 78). */
export const secret = z.string().superRefine((v, ctx) => {
  const reason = weakSecretReason(v);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});
export const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);

/** JSON text parsed, or the text itself (zod then names what was expected). */
export function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The stable `code` of a {@link ConfigError}: what a caller checks (the class may come from another copy of this module, as in the hub-alone bundle). */
export const CONFIG_ERROR_CODE = 'AIRWAVES_CONFIG_INVALID';

export class ConfigError extends Error {
  readonly code = CONFIG_ERROR_CODE;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Whether `err` is a {@link ConfigError}, from this copy of the module or another. */
export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && (err as { code?: unknown }).code === CONFIG_ERROR_CODE;
}

/**
 * The groups merged into one table, refusing a field name or variable declared twice (two apps
 * reading one variable would silently share it).
 */
export function mergeSettings<G extends readonly SettingFields[]>(...groups: G): UnionToIntersection<G[number]> {
  const merged: Record<string, SettingField> = {};
  const variables = new Map<string, string>();
  for (const group of groups) {
    for (const [field, definition] of Object.entries(group)) {
      if (field in merged) throw new Error(`settings: field "${field}" is declared twice`);
      const owner = variables.get(definition[0]);
      if (owner) throw new Error(`settings: ${definition[0]} is read by both "${owner}" and "${field}"`);
      variables.set(definition[0], field);
      merged[field] = definition;
    }
  }
  return merged as UnionToIntersection<G[number]>;
}
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * Reads `fields` from `env` and the file named by `AIRWAVES_CONFIG`; environment wins over file,
 * explicit `overrides` win over both. Throws a ConfigError listing every bad field.
 */
export function loadSettings<F extends SettingFields>(fields: F, env: NodeJS.ProcessEnv, overrides: Partial<SettingsOf<F>> = {}): SettingsOf<F> {
  const problems: string[] = [];
  let fileValues: Record<string, unknown> = {};
  const file = env.AIRWAVES_CONFIG;
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
        problems.push(`AIRWAVES_CONFIG (${file}): expected a JSON object`);
        fileValues = {};
      }
    } catch (err) {
      problems.push(`AIRWAVES_CONFIG (${file}): ${(err as Error).message}`);
    }
  }
  for (const key of Object.keys(fileValues)) {
    if (!(key in fields)) problems.push(`AIRWAVES_CONFIG: unknown field "${key}"`);
  }

  const out: Record<string, unknown> = {};
  for (const [field, [envName, schema, , options = {}]] of Object.entries(fields)) {
    let raw: unknown = undefined;
    let source = envName;
    if (field in overrides) {
      raw = (overrides as Record<string, unknown>)[field];
      source = `option ${field}`;
    } else if (env[envName] !== undefined && (env[envName] !== '' || options.emptyMeansNone)) {
      raw = env[envName];
      if (options.json) {
        try {
          raw = JSON.parse(raw as string);
        } catch (err) {
          problems.push(`${envName}: expected JSON (${(err as Error).message})`);
          continue;
        }
      }
    } else if (field in fileValues) {
      raw = fileValues[field];
      source = `AIRWAVES_CONFIG field "${field}"`;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) out[field] = parsed.data;
    else {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length ? `${source} at ${issue.path.join('.')}` : source;
        problems.push(`${where}: ${issue.message}${raw !== undefined && typeof raw !== 'object' && !options.secret ? ` (got "${String(raw)}")` : ''}`);
      }
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as SettingsOf<F>;
}

/** The settings as a Markdown table (variable, file field, default, meaning), so docs never drift. */
export function settingsReference(fields: SettingFields): string {
  const defaults: Record<string, unknown> = loadSettings(fields, {});
  const rows = Object.entries(fields).map(([field, [envName, , doc]]) => {
    const value = defaults[field];
    const shown = value === undefined ? '—' : `\`${JSON.stringify(value)}\``;
    return `| \`${envName}\` | \`${field}\` | ${shown} | ${doc} |`;
  });
  return ['| variable | file field | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
