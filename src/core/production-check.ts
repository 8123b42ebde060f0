/**
 * @module core/production-check
 * `airwaves check-config --production`: the settings that are valid for a laptop but wrong for
 * production. A configuration can pass validation (src/core/config.ts) and still run on the
 * embedded database, share no state between nodes, sign tokens with the published default
 * secret, let anyone connect because nobody thought about it, or serve the demo. Each problem is
 * named with the variable that fixes it; the CLI exits 78 (EX_CONFIG) when there is any.
 * Secrets are judged by the one check in core/public-secrets, at its `production` level (short
 * and published values never get this far: the configuration refuses them at start).
 */
import { readFileSync } from 'node:fs';
import { CORE_SETTINGS, type CoreConfig } from './config.js';
import { PLACEHOLDER_WORDS, weakSecretReason } from './public-secrets.js';


export interface ProductionCheckInput {
  config: CoreConfig;
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

type FieldName = keyof typeof CORE_SETTINGS;

function variableOf(field: FieldName): string {
  return CORE_SETTINGS[field][0];
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

/** Every reason this configuration must not run in production; empty when it may. */
export function productionProblems({ config, env, replicas }: ProductionCheckInput): ProductionProblem[] {
  const problems: ProductionProblem[] = [];
  const inFile = fileFields(env);
  const add = (variable: string, message: string) => problems.push({ variable, message });
  const secretsFile = `${variableOf('dataDir')} (${config.dataDir})/secrets.json`;

  if (!config.databaseUrl) {
    const local = config.clusterLocalDatabase ? ` (${variableOf('clusterLocalDatabase')} gives every node its own)` : '';
    add(variableOf('databaseUrl'), `unset: the embedded PGlite database under ${variableOf('dataDir')} (${config.dataDir}) would hold production data on one node's disk${local}; set a PostgreSQL URL`);
  } else if (!/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    add(variableOf('databaseUrl'), 'is not a postgres:// or postgresql:// URL');
  } else {
    const password = (() => {
      try {
        return decodeURIComponent(new URL(config.databaseUrl).password);
      } catch {
        return '';
      }
    })();
    if (password && PLACEHOLDER_WORDS.test(password)) add(variableOf('databaseUrl'), 'its password looks like a placeholder');
  }

  const clusterIntended = replicas > 1 || explicitlySet('nodeId', env, inFile);
  if (clusterIntended && !config.redisUrl) {
    const why = replicas > 1 ? `${replicas} nodes are planned` : `${variableOf('nodeId')} is set, so this node is meant for a cluster`;
    add(variableOf('redisUrl'), `unset but ${why}: without Redis every node has its own channels, history and event log, and clients on different nodes never see each other's messages`);
  }

  // Unset secrets are generated on first start into the data directory: one node's disk, lost with
  // a container, and different on every node (tokens from one node fail on the others).
  const secrets: [FieldName, string | undefined][] = [
    ['jwtSecret', config.jwtSecret],
    ['apiKey', config.apiKey],
  ];
  for (const [field, value] of secrets) {
    if (!value) add(variableOf(field), `unset: it would be generated into ${secretsFile} on each node's own disk; set the same generated value on every node`);
    else {
      const reason = weakSecretReason(value, 'production');
      if (reason) add(variableOf(field), reason);
    }
  }
  if (config.apiKey && config.apiKey === config.jwtSecret) add(variableOf('apiKey'), `equals ${variableOf('jwtSecret')}: anyone who can verify a token could publish as the server`);

  if (config.allowAnonymous && !explicitlySet('allowAnonymous', env, inFile)) {
    add(variableOf('allowAnonymous'), 'anonymous connections are accepted because the variable is left at its default; set it to false, or to true if anonymous access is intended');
  }

  if (config.demo) add(variableOf('demo'), 'demo mode is on: demo logins must not reach production; unset it');
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
export function productionCheckReport(config: CoreConfig, replicasFlag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const replicas = plannedReplicas(replicasFlag, env);
  if (typeof replicas === 'string') return `not ready for production:\n  - ${replicas}`;
  const problems = productionProblems({ config, env, replicas });
  if (!problems.length) return undefined;
  return `not ready for production (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`;
}
