#!/usr/bin/env node
// Provisions what the tests need that npm cannot: Debian packages for Redis, PostgreSQL,
// ffmpeg, nginx with the RTMP module, Chromium and Prometheus' promtool. Installs them with apt-get
// when running as root; otherwise names the missing packages and exits non-zero.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { pkg: 'redis-server', present: () => has('redis-server') },
  { pkg: 'postgresql', present: () => findPgBin() !== null },
  { pkg: 'ffmpeg', present: () => has('ffmpeg') },
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
  { pkg: 'prometheus', present: () => has('promtool') },
  { pkg: 'redis-sentinel', present: () => has('redis-sentinel') || existsSync('/usr/bin/redis-sentinel') },
  // test/cluster/sentinel-auth makes throwaway TLS certificates with it.
  { pkg: 'openssl', present: () => has('openssl') },
  // test/http/listen-backlog reads the listening socket's backlog with `ss`.
  { pkg: 'iproute2', present: () => has('ss') },
  { pkg: 'nginx', present: () => existsSync('/usr/sbin/nginx') },
  { pkg: 'libnginx-mod-rtmp', present: () => existsSync('/usr/lib/nginx/modules/ngx_rtmp_module.so') },
];

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function findPgBin() {
  for (const v of ['17', '16', '15', '14']) if (existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) return `/usr/lib/postgresql/${v}/bin`;
  return null;
}

const missing = needs.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(`The tests need these Debian packages: ${missing.join(' ')}\nInstall them with: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.log(`provision: installing ${missing.join(' ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execSync('apt-get update -qq', { stdio: 'inherit', env });
execSync(`apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`, { stdio: 'inherit', env });
// Debian starts services on install; the tests run their own on random ports.
for (const svc of ['redis-server', 'redis-sentinel', 'postgresql', 'nginx', 'prometheus']) spawnSync('sh', ['-c', `service ${svc} stop`], { stdio: 'ignore' });
