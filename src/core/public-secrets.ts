/**
 * @module core/public-secrets
 * Secrets and keys that have ever appeared in this project's docs, examples or defaults. A
 * server configured with one of them is refused at start: anyone who read the docs could sign
 * tokens or call admin routes. Add every example value you write into a doc to this list.
 */
export const PUBLIC_SECRETS: readonly string[] = [
  // The embedded default until issue 12, printed in the README's configuration table.
  'airwaves-dev-secret-change-me-in-production!',
  // Placeholders the docs showed or show in examples.
  'change-me-to-a-long-random-secret-of-32-bytes-or-more',
  'change-me-a-long-random-shared-key',
  'change-me-at-least-32-random-characters',
  // ops/kubernetes/secret.yaml's placeholders.
  'change-me-openssl-rand-hex-32-jwt-signing-secret',
  'change-me-openssl-rand-hex-32-server-api-key-value',
];

/** The smallest secret or key accepted, in bytes (HS256 wants at least its 256-bit output). */
export const MIN_SECRET_BYTES = 32;

/** Fewest distinct characters in a production secret: `aaaa…` or `0123…0123` is not random. */
export const MIN_DISTINCT_SECRET_CHARS = 12;

/**
 * Words that give a placeholder away. A start refuses only short and published values (a laptop
 * may run on `test-secret-…`); production (`airwaves check-config --production`) refuses these too.
 */
export const PLACEHOLDER_WORDS = /change-?me|example|placeholder|password|insecure|replace/i;

/**
 * Why `value` may not be used as a secret, or null when it may: the one check of secret
 * strength. `start` (the configuration, the secrets file) refuses short and published values;
 * `production` also refuses values that are visibly not random.
 */
export function weakSecretReason(value: string, level: 'start' | 'production' = 'start'): string | null {
  if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) return `must be at least ${MIN_SECRET_BYTES} bytes (got ${Buffer.byteLength(value, 'utf8')})`;
  if (PUBLIC_SECRETS.includes(value)) return 'is a value published in the Airwaves docs; generate your own (e.g. `openssl rand -base64 48`)';
  if (level === 'start') return null;
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT_SECRET_CHARS) return `uses only ${distinct} distinct characters; generate it (openssl rand -hex 32)`;
  if (PLACEHOLDER_WORDS.test(value)) return 'looks like a placeholder; generate it (openssl rand -hex 32)';
  return null;
}
