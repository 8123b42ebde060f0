/**
 * @module hub/engines/redis/scripts
 * The engine's Lua scripts, kept as files beside it (./lua/*.lua) and read once at start. Run
 * from dist/ (after `npm run build`, which compiles only TypeScript) they are read from the
 * source tree the build came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the Lua files are, whether running from src/ or dist/src/. */
export function luaDir(): string {
  const beside = join(here, 'lua');
  if (existsSync(beside)) return beside;
  // dist/src/hub/engines/redis → src/hub/engines/redis
  const source = here.replace(/([\\/])dist([\\/])src([\\/])/, '$1src$3');
  return join(source, 'lua');
}

let cache: { publish: string; history: string; restart: string } | undefined;

export function engineScripts(): { publish: string; history: string; restart: string } {
  if (!cache) {
    const dir = luaDir();
    cache = { publish: readFileSync(join(dir, 'publish.lua'), 'utf8'), history: readFileSync(join(dir, 'history.lua'), 'utf8'), restart: readFileSync(join(dir, 'restart.lua'), 'utf8') };
  }
  return cache;
}

/** The presence scripts, each prefixed with the shared announcer (presence-announce.lua). */
export function presenceScripts(): { add: string; leave: string; list: string } {
  const dir = luaDir();
  const lua = (name: string) => readFileSync(join(dir, 'presence-announce.lua'), 'utf8') + readFileSync(join(dir, name), 'utf8');
  return { add: lua('presence-add.lua'), leave: lua('presence-leave.lua'), list: lua('presence-list.lua') };
}
