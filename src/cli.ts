#!/usr/bin/env node
/**
 * @module cli
 * `airwaves serve` runs the server (on the first start it prints how to sign in); `airwaves token`
 * mints a token; `airwaves check-config` validates the configuration; `airwaves config-doc`
 * prints the configuration reference. A bad configuration, a weak secret included, exits 78.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Role } from './auth/index.js';
import type { Logger } from './core/logger.js';
import type { CodeCacheState } from './hub-alone-bundle.js';

// Every module is imported by the command that needs it: `serve` of the hub alone loads one
// bundled file (hubAloneBundle), not the configuration's and the tokens' module graphs first.
const usage = async () => `usage:
  airwaves serve                      run the server (configuration from AIRWAVES_* and AIRWAVES_CONFIG)
  airwaves token --sub USER [--role agent] [--subscribe 'chat:*'] [--publish 'chat:*'] [--ttl 1h]
  airwaves check-config               validate the configuration and print it
  airwaves check-config --production [--replicas N]
                                      also refuse what must not reach production (exit 78, each problem named)
  airwaves admin-key                  print the admin API key (AIRWAVES_API_KEY, or the one in <data dir>/secrets.json)
  airwaves config-doc                 print the configuration reference (Markdown)
${(await import('./db/cli-usage.js')).DB_USAGE}`;

/** What `serve` takes from the server's modules (or from the hub-alone bundle, which exports the same). */
type ServerModules = Pick<typeof import('./server.js'), 'createServer'> & Pick<typeof import('./config.js'), 'loadConfig' | 'clusterProblems'>;

/**
 * The hub alone on the memory engine and the environment alone (AIRWAVES_APPS set and empty, no
 * Redis, no configuration file) loads the server as one bundled file, dist/hub/server.cjs
 * (scripts/build.mjs), with its V8 code cache (hub-alone-bundle), when the build made one:
 * resolving, reading and compiling the 670 module files of its graph was most of its time to
 * /readyz. Its configuration is the core's alone (no app runs; no app's settings are read).
 * Anything else (apps, whose modules share the server's; running from src/ through tsx; a build
 * without esbuild) loads the modules.
 */
function hubAloneBundle(env = process.env): string | undefined {
  if (env.AIRWAVES_APPS?.trim() !== '' || env.AIRWAVES_REDIS_URL || env.AIRWAVES_CONFIG) return undefined;
  const bundle = fileURLToPath(new URL('../hub/server.cjs', import.meta.url));
  return import.meta.url.endsWith('/dist/src/cli.js') && existsSync(bundle) ? bundle : undefined;
}

/**
 * Any other server started from the build (apps enabled, Redis, a configuration file) runs from
 * the all-apps bundle, dist/all/server.js and config.js (scripts/build.mjs), when the build made
 * it: the same code with whitespace, comments and zod's unused locales out, which keeps the main
 * isolate's live heap smaller (issue 18, docs/benchmarks.md). AIRWAVES_BUNDLE=off loads dist/src.
 */
function allAppsBundle(env = process.env): string | undefined {
  if (env.AIRWAVES_BUNDLE === 'off') return undefined;
  const dir = fileURLToPath(new URL('../all/', import.meta.url));
  return import.meta.url.endsWith('/dist/src/cli.js') && existsSync(`${dir}server.js`) ? dir : undefined;
}

/** The server's modules, and (from the bundle) what its code cache did: refused or missing, it is written once the server listens. */
async function serverModules(): Promise<ServerModules & { codeCache?: { state: CodeCacheState; save: () => string }; from?: string }> {
  const bundle = process.env.AIRWAVES_BUNDLE === 'off' ? undefined : hubAloneBundle();
  if (bundle) {
    const loaded = (await import('./hub-alone-bundle.js')).loadBundle<ServerModules>(bundle);
    return { ...loaded.exports, codeCache: { state: loaded.codeCache, save: loaded.saveCodeCache } };
  }
  const all = allAppsBundle();
  if (all) {
    const [{ createServer }, { loadConfig, clusterProblems }] = (await Promise.all([import(`${all}server.js`), import(`${all}config.js`)])) as [Pick<ServerModules, 'createServer'>, Omit<ServerModules, 'createServer'>];
    return { createServer, loadConfig, clusterProblems, from: 'dist/all' };
  }
  const [{ createServer }, { loadConfig, clusterProblems }] = await Promise.all([import('./server.js'), import('./config.js')]);
  return { createServer, loadConfig, clusterProblems };
}

async function serve(): Promise<void> {
  // Every way of starting the server runs the same young-generation collector (core/scavenger).
  (await import('./core/scavenger.js')).applyServerScavenger();
  const { createServer, loadConfig, clusterProblems, codeCache, from } = await serverModules();
  const problems = clusterProblems(loadConfig());
  if (problems.length) throw new (await import('./config.js')).ConfigError(problems);
  // The port opens as soon as the hub runs; the apps start behind it (their routes answer 503
  // app_starting meanwhile). An app that cannot start ends the process, as before it listened.
  const server = await createServer({ serveWhileStarting: true });
  let appsSettled = false;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    // Stopped while the apps start, the server lets them finish first (an embedded database
    // closed under a migration can be damaged): up to a minute more before the forced exit.
    const force = setTimeout(() => process.exit(1), server.config.shutdownDrainMs + 5000 + (appsSettled ? 0 : 60_000));
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Before the port opens: a stop as soon as "listening" is logged is a graceful one.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const url = await server.listen();
  if (codeCache) {
    server.logger.info({ codeCache: codeCache.state }, 'hub alone: the server runs from dist/hub/server.cjs');
    if (codeCache.state !== 'used') setTimeout(() => saveCodeCache(server.logger, codeCache.save), 1000).unref();
  }
  if (from) server.logger.info(`the server runs from the all-apps bundle (${from})`);
  if (server.generatedSecrets) printFirstStart(url, server.generatedSecrets, server.config.apiKey!);
  server.appsStarted.then(
    () => (appsSettled = true),
    (err: unknown) => {
      server.logger.fatal({ err }, 'an app failed to start');
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}

/**
 * A second after listening (not in the way of the first requests): the bundle's code cache for
 * the next start, best effort (a read-only install keeps the one the build made).
 */
function saveCodeCache(logger: Logger, save: () => string): void {
  try {
    logger.info({ file: save() }, 'hub alone: code cache written for the next start');
  } catch (err) {
    logger.info({ err: (err as Error).message }, 'hub alone: code cache not written');
  }
}

/** Printed once, on the start that generated the secrets (as Jupyter and Grafana do). */
function printFirstStart(url: string, file: string, apiKey: string): void {
  process.stderr.write(
    [
      '',
      '  Airwaves generated a token secret and an admin API key (first start) into',
      `    ${file}  (mode 0600; reused on every start; see docs/security.md to rotate)`,
      '  Sign in as admin (open in a browser on this machine):',
      `    ${url}/signin#key=${apiKey}`,
      '  or call the API with:',
      `    Authorization: Bearer ${apiKey}`,
      '',
    ].join('\n') + '\n',
  );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command ?? 'serve') {
      case 'serve':
        await serve();
        return -1;
      case 'token': {
        const { values } = parseArgs({
          args: rest,
          options: { sub: { type: 'string' }, role: { type: 'string', multiple: true }, subscribe: { type: 'string', multiple: true }, publish: { type: 'string', multiple: true }, ttl: { type: 'string', default: '1h' } },
        });
        const { isRole, mintToken, parseTtl, resolveSecrets } = await import('./auth/index.js');
        const { loadConfig } = await import('./config.js');
        if (!values.sub) {
          console.error('token: --sub is required\n' + (await usage()));
          return 2;
        }
        const roles = values.role ?? [];
        const unknown = roles.filter((r) => !isRole(r));
        if (unknown.length) {
          console.error(`token: unknown role ${unknown.join(', ')}\n${await usage()}`);
          return 2;
        }
        const config = loadConfig();
        // The secret the server uses: configured, or the one generated into the data directory.
        const { jwtSecret } = resolveSecrets({ jwtSecret: config.jwtSecret || undefined, apiKey: config.apiKey, dataDir: config.dataDir });
        console.log(await mintToken({ sub: values.sub, roles: roles as Role[], subscribe: values.subscribe, publish: values.publish }, jwtSecret, parseTtl(values.ttl!)));
        return 0;
      }
      case 'check-config': {
        const { values } = parseArgs({ args: rest, options: { production: { type: 'boolean', default: false }, replicas: { type: 'string' } } });
        const { loadConfig, clusterProblems, ConfigError } = await import('./config.js');
        const { productionCheckReport } = await import('./core/production-check.js');
        const config = loadConfig();
        const problems = clusterProblems(config);
        if (problems.length) throw new ConfigError(problems);
        const refused = values.production ? productionCheckReport(config, values.replicas, process.env) : undefined;
        if (refused) {
          console.error(refused);
          return 78; // EX_CONFIG
        }
        console.log(JSON.stringify({ ...config, jwtSecret: '<redacted>', apiKey: config.apiKey ? '<redacted>' : undefined }, null, 2));
        console.error(values.production ? 'configuration is valid and ready for production' : 'configuration is valid');
        return 0;
      }
      case 'db':
        return await (await import('./db/cli-commands.js')).runDbCommand(rest, (await import('./config.js')).loadConfig());
      case 'admin-key': {
        // What the server uses: configured, or generated into the data directory (now, if first).
        const { resolveSecrets } = await import('./auth/index.js');
        const config = (await import('./config.js')).loadConfig();
        console.log(resolveSecrets({ jwtSecret: config.jwtSecret || undefined, apiKey: config.apiKey, dataDir: config.dataDir }).apiKey);
        return 0;
      }
      case 'config-doc':
        console.log((await import('./config.js')).configReference());
        return 0;
      default:
        console.error(`unknown command "${command}"\n${await usage()}`);
        return 2;
    }
  } catch (err) {
    // By its code, not its class: the hub-alone bundle has its own copy of the class.
    if ((await import('./core/settings.js')).isConfigError(err)) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    console.error((err as Error).message);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  // Exit now: a start that failed half way (the database would not open) may leave timers and
  // sockets of the parts already built, which would keep a dead server process alive.
  if (code >= 0) process.exit(code);
});
