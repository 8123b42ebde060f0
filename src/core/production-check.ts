/**
 * @module core/production-check
 * `airwaves check-config --production`: the settings that are valid for a laptop but wrong for
 * production. A configuration can pass validation (src/core/config.ts) and still run on the
 * embedded database, share no state between nodes, sign tokens with the published default
 * secret, let anyone connect because nobody thought about it, or serve the demo. Each problem is
 * named with the variable that fixes it; the CLI exits 78 (EX_CONFIG) when there is any.
 */
import { readFileSync } from 'node:fs';
import { CONFIG_FIELDS, type AirwavesConfig } from './config.js';

/** Shortest secret (JWT signing secret, API key) accepted in production: 256 bits of hex-ish text. */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

/** Fewest distinct characters in a production secret: `aaaa…` or `0123…0123` is not random. */
const MIN_DISTINCT_SECRET_CHARS = 12;

/** Words that give a placeholder away when they appear in a secret. */
const PLACEHOLDER_WORDS = /change-?me|example|placeholder|password|insecure/i;

export interface ProductionCheckInput {
  config: AirwavesConfig;
  /** The environment the configuration came from (to tell "left at its default" from "chosen"). */
  env: NodeJS.ProcessEnv;
  /**
   * How many nodes will run this configuration. From `--replicas`, else `AIRWAVES_REPLICAS`,
   * else 1; a set `AIRWAVES_NODE_ID` without Redis is also read as "meant for a cluster".
   */
  replicas: number;
}

export interface ProductionProblem {
  /** The variable that fixes it. */
  variable: string;
  message: string;
}

type FieldName = keyof typeof CONFIG_FIELDS;

function variableOf(field: FieldName): string {
  return CONFIG_FIELDS[field][0];
}

/** The default a field takes when nothing sets it, read from its schema (so it follows config.ts). */
function defaultOf(field: FieldName): unknown {
  const parsed = CONFIG_FIELDS[field][1].safeParse(undefined);
  return parsed.success ? parsed.data : undefined;
}

/** Fields set in the `AIRWAVES_CONFIG` file, if there is one that parses. */
function fileFields(env: NodeJS.ProcessEnv): Set<string> {
  if (!env.AIRWAVES_CONFIG) return new Set();
  try {
    const parsed = JSON.parse(readFileSync(env.AIRWAVES_CONFIG, 'utf8')) as unknown;
    return new Set(typeof parsed === 'object' && parsed !== null ? Object.keys(parsed) : []);
  } catch {
    return new Set(); // loadConfig has already reported an unreadable file
  }
}

function explicitlySet(field: FieldName, env: NodeJS.ProcessEnv, inFile: Set<string>): boolean {
  const value = env[variableOf(field)];
  return (value !== undefined && value !== '') || inFile.has(field);
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** Why `secret` is not fit to sign or authorise production traffic, or undefined when it is. */
function weakSecretReason(secret: string, defaultValue: unknown): string | undefined {
  if (secret === defaultValue) return 'is the built-in development default, which is published in the source';
  if (secret.length < MIN_PRODUCTION_SECRET_LENGTH) return `is ${secret.length} characters; production needs at least ${MIN_PRODUCTION_SECRET_LENGTH} random characters`;
  if (new Set(secret).size < MIN_DISTINCT_SECRET_CHARS) return `uses only ${new Set(secret).size} distinct characters; generate it (openssl rand -hex 32)`;
  if (PLACEHOLDER_WORDS.test(secret)) return 'looks like a placeholder; generate it (openssl rand -hex 32)';
  return undefined;
}

/** Every reason this configuration must not run in production; empty when it may. */
export function productionProblems({ config, env, replicas }: ProductionCheckInput): ProductionProblem[] {
  const problems: ProductionProblem[] = [];
  const inFile = fileFields(env);
  const add = (variable: string, message: string) => problems.push({ variable, message });

  if (!config.databaseUrl) {
    add(variableOf('databaseUrl'), `unset: the embedded PGlite database under ${variableOf('dataDir')} (${config.dataDir}) would hold production data on one node's disk; set a PostgreSQL URL`);
  } else if (!/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    add(variableOf('databaseUrl'), 'is not a postgres:// or postgresql:// URL');
  }

  const clusterIntended = replicas > 1 || explicitlySet('nodeId', env, inFile);
  if (clusterIntended && !config.redisUrl) {
    const why = replicas > 1 ? `${replicas} nodes are planned` : `${variableOf('nodeId')} is set, so this node is meant for a cluster`;
    add(variableOf('redisUrl'), `unset but ${why}: without Redis every node has its own channels, history and event log, and clients on different nodes never see each other's messages`);
  }

  const jwtSecret = config.jwtSecret as string | undefined;
  if (!jwtSecret) add(variableOf('jwtSecret'), 'unset: client tokens cannot be verified');
  else {
    const reason = weakSecretReason(jwtSecret, defaultOf('jwtSecret'));
    if (reason) add(variableOf('jwtSecret'), reason);
  }
  const apiKey = config.apiKey as string | undefined;
  if (apiKey) {
    const reason = weakSecretReason(apiKey, defaultOf('apiKey'));
    if (reason) add(variableOf('apiKey'), reason);
    if (apiKey === jwtSecret) add(variableOf('apiKey'), `equals ${variableOf('jwtSecret')}: anyone who can verify a token could publish as the server`);
  }

  if (config.allowAnonymous && !explicitlySet('allowAnonymous', env, inFile)) {
    add(variableOf('allowAnonymous'), 'anonymous connections are accepted because the variable is left at its default; set it to false, or to true if anonymous access is intended');
  }

  if (isTruthy(env.AIRWAVES_DEMO)) {
    add('AIRWAVES_DEMO', 'demo mode is on: demo data and open demo identities must not reach production; unset it');
  }
  return problems;
}

/** The replica count named by `--replicas`, `AIRWAVES_REPLICAS` or 1, or an error message. */
export function plannedReplicas(flag: string | undefined, env: NodeJS.ProcessEnv): number | string {
  const raw = flag ?? env.AIRWAVES_REPLICAS ?? '1';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return `${flag !== undefined ? '--replicas' : 'AIRWAVES_REPLICAS'}: expected a whole number of nodes >= 1 (got "${raw}")`;
  return n;
}

/**
 * The `--production` verdict as the CLI prints it: undefined when the configuration may run in
 * production, else one line per problem naming its variable.
 */
export function productionCheckReport(config: AirwavesConfig, replicasFlag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const replicas = plannedReplicas(replicasFlag, env);
  if (typeof replicas === 'string') return `not ready for production:\n  - ${replicas}`;
  const problems = productionProblems({ config, env, replicas });
  if (!problems.length) return undefined;
  return `not ready for production (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`;
}
