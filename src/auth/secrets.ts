/**
 * @module auth/secrets
 * Safe defaults that need no setup: when AIRWAVES_JWT_SECRET or AIRWAVES_API_KEY is not set,
 * the server generates it on first start into `<data dir>/secrets.json` (mode 0600) and reuses it
 * on every start after, as Jupyter and Grafana do. There is no public default secret.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/config.js';
import { weakSecretReason } from '../core/public-secrets.js';

export const SECRETS_FILE = 'secrets.json';

export interface SecretSettings {
  jwtSecret?: string;
  apiKey?: string;
  dataDir: string;
}

export interface ResolvedSecrets {
  jwtSecret: string;
  apiKey: string;
  /** Set when this start generated something (the first start): where it was written. */
  generatedInto: string | null;
  /** Where the admin API key came from. */
  apiKeySource: 'config' | 'file' | 'generated';
}

interface SecretsFile {
  jwtSecret?: string;
  apiKey?: string;
  createdAt?: string;
}

/** 48 random bytes, base64url: 64 characters, 384 bits. */
export function generateSecret(): string {
  return randomBytes(48).toString('base64url');
}

function readSecretsFile(file: string): SecretsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the generated secrets (${(err as Error).message}); fix or delete it (a new secret signs every client out)`]);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ConfigError([`${file}: expected a JSON object`]);
  const out = parsed as SecretsFile;
  for (const field of ['jwtSecret', 'apiKey'] as const) {
    const v = out[field];
    if (v === undefined) continue;
    const reason = typeof v === 'string' ? weakSecretReason(v) : 'must be a string';
    if (reason) throw new ConfigError([`${file} field "${field}": ${reason}`]);
  }
  // A copy made by a careless `cp` may have lost its mode: the file holds the admin key.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return out;
}

/**
 * The JWT secret and admin API key this server uses: configured values win; missing ones come
 * from the data directory's secrets file, generated there (mode 0600) when absent.
 */
export function resolveSecrets(settings: SecretSettings): ResolvedSecrets {
  if (settings.jwtSecret && settings.apiKey) return { jwtSecret: settings.jwtSecret, apiKey: settings.apiKey, generatedInto: null, apiKeySource: 'config' };
  const file = join(settings.dataDir, SECRETS_FILE);
  const stored: SecretsFile = existsSync(file) ? readSecretsFile(file) : {};
  const sources = { jwtSecret: 'config', apiKey: 'config' } as Record<'jwtSecret' | 'apiKey', ResolvedSecrets['apiKeySource']>;
  const take = (field: 'jwtSecret' | 'apiKey'): string => {
    const configured = settings[field];
    if (configured) return configured;
    if (stored[field]) {
      sources[field] = 'file';
      return stored[field];
    }
    sources[field] = 'generated';
    return (stored[field] = generateSecret());
  };
  const jwtSecret = take('jwtSecret');
  const apiKey = take('apiKey');
  const generated = sources.jwtSecret === 'generated' || sources.apiKey === 'generated';
  if (generated) {
    mkdirSync(settings.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ ...stored, createdAt: stored.createdAt ?? new Date().toISOString() }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { jwtSecret, apiKey, generatedInto: generated ? file : null, apiKeySource: sources.apiKey };
}
