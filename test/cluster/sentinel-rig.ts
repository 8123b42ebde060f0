/**
 * @module test/cluster/sentinel-rig
 * A real Redis Sentinel setup on random loopback ports, owned by the test that starts it: one
 * master, one replica and three `redis-sentinel` processes (quorum 2) watching the group
 * `mymaster`, with a short down-after time so a killed master is replaced in a few seconds.
 * With `auth`, the Redis servers require `auth.master` (URL: redis://:<master>@mymaster) and the
 * Sentinels require `auth.sentinel` (sent as AIRWAVES_REDIS_SENTINEL_PASSWORD). With `tls`, each
 * Sentinel also listens with TLS (a throwaway CA and certificate made with openssl), and the
 * nodes are given those ports, AIRWAVES_REDIS_SENTINEL_TLS and the CA file; the Sentinels still
 * talk to each other and to the servers in plain text.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../helpers/redis.js';

export const MASTER_NAME = 'mymaster';

export interface SentinelRig {
  sentinels: { host: string; port: number }[];
  /** The URL the nodes use: its host is the master group's name. */
  url: string;
  /** The node settings that point at the Sentinels. */
  config: { redisSentinels: { host: string; port: number }[]; redisSentinelPassword?: string; redisSentinelTls?: boolean; redisTlsCaFile?: string };
  masterPort: number;
  replicaPorts: number[];
  /** SIGKILLs the current master (the data it did not replicate is gone with it). */
  killMaster(): void;
  /** The address the Sentinels give for the master now. */
  masterAddress(): Promise<string>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function probe(port: number, password?: string): Redis {
  const c = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on('error', () => {});
  return c;
}

/** Polls `check` on a fresh connection to `port` until it returns true. */
async function waitFor(port: number, what: string, check: (c: Redis) => Promise<boolean>, password?: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = probe(port, password);
    try {
      await c.connect();
      if (await check(c)) return;
    } catch {
      /* not up yet */
    } finally {
      c.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (port ${port})`);
    await sleep(50);
  }
}

export interface SentinelAuth {
  /** requirepass of the master and replicas (and masterauth of the replicas). */
  master: string;
  /** requirepass of the Sentinels. */
  sentinel: string;
}

/** A CA and a certificate for 127.0.0.1 signed by it, in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '1', '-subj', '/CN=airwaves-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '1', '-extfile', p('ext.cnf'));
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') };
}

export async function startSentinelRig(auth?: SentinelAuth, { tls = false }: { tls?: boolean } = {}): Promise<SentinelRig> {
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-sentinel-'));
  const certs = tls ? makeCertificates(dir) : null;
  const procs: ChildProcess[] = [];
  const run = (cmd: string, args: string[]) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    procs.push(p);
    return p;
  };
  const masterPort = await freePort();
  const replicaPorts = [await freePort(), await freePort()];
  const common = ['--bind', '127.0.0.1', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', ...(auth ? ['--requirepass', auth.master, '--masterauth', auth.master] : [])];
  const master = run('redis-server', ['--port', String(masterPort), '--dir', dir, '--dbfilename', 'm.rdb', ...common]);
  await waitFor(masterPort, 'master', async (c) => (await c.ping()) === 'PONG', auth?.master);
  // Two replicas: after a failover one is the master and the other replicates it, so a publish
  // that waits for one replica's confirmation (WAIT 1) can be acknowledged again.
  for (const [i, port] of replicaPorts.entries()) {
    run('redis-server', ['--port', String(port), '--dir', dir, '--dbfilename', `r${i}.rdb`, '--replicaof', '127.0.0.1', String(masterPort), ...common]);
  }
  for (const port of replicaPorts) await waitFor(port, 'replica in sync', async (c) => /master_link_status:up/.test(await c.info('replication')), auth?.master);

  const sentinels: { host: string; port: number }[] = [];
  const tlsSentinels: { host: string; port: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const tlsPort = certs ? await freePort() : 0;
    const conf = join(dir, `sentinel-${i}.conf`);
    // Sentinel rewrites its file (it records what it learns), so each has its own, writable.
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        ...(auth ? [`sentinel auth-pass ${MASTER_NAME} ${auth.master}`, `requirepass ${auth.sentinel}`] : []),
        ...(certs ? [`tls-port ${tlsPort}`, `tls-cert-file ${certs.cert}`, `tls-key-file ${certs.key}`, `tls-ca-cert-file ${certs.ca}`, 'tls-auth-clients no'] : []),
        '',
      ].join('\n'),
    );
    run('redis-sentinel', [conf]);
    sentinels.push({ host: '127.0.0.1', port });
    if (certs) tlsSentinels.push({ host: '127.0.0.1', port: tlsPort });
  }
  // Ready when every Sentinel knows both replicas and its two peers: a failover needs both.
  for (const s of sentinels) {
    await waitFor(s.port, 'sentinel ready', async (c) => {
      const master = (await c.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
      const field = (name: string) => Number(master[master.indexOf(name) + 1]);
      return field('num-slaves') >= 2 && field('num-other-sentinels') >= 2;
    }, auth?.sentinel);
  }

  const rig: SentinelRig = {
    sentinels,
    url: auth ? `redis://:${auth.master}@${MASTER_NAME}` : `redis://${MASTER_NAME}`,
    config: {
      redisSentinels: certs ? tlsSentinels : sentinels,
      ...(auth ? { redisSentinelPassword: auth.sentinel } : {}),
      ...(certs ? { redisSentinelTls: true, redisTlsCaFile: certs.ca } : {}),
    },
    masterPort,
    replicaPorts,
    killMaster() {
      master.kill('SIGKILL');
    },
    async masterAddress() {
      const c = probe(sentinels[0].port, auth?.sentinel);
      try {
        await c.connect();
        const [host, port] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[];
        return `${host}:${port}`;
      } finally {
        c.disconnect();
      }
    },
    async close() {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
