/**
 * @module test/live/nginx-rtmp
 * One way to run a real nginx-rtmp (Debian's nginx + libnginx-mod-rtmp) for tests and benches:
 * a temporary prefix with `logs/`, `hls/` and `tmp/` writable by nginx's unprivileged workers,
 * random loopback ports, a wait until the RTMP port accepts, and a stop that removes it all.
 * Two configurations: the shipped ops/nginx-rtmp/nginx.conf with its ports, paths and callback
 * URLs rewritten (the production ingest path), and a bare single-process one for benchmarks
 * (`master_process off`, so the process id's CPU is all of nginx's work).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A loopback port free right now (the listener is closed before it is returned). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface NginxLayout {
  prefix: string;
  hlsDir: string;
  rtmpPort: number;
  httpPort: number;
}

export interface NginxRtmp extends NginxLayout {
  pid: number;
  /** The publish/play URL of `name` in the `live` application. */
  rtmpUrl(name: string): string;
  /** What nginx wrote to stderr so far (start-up errors). */
  stderr(): string;
  stop(): Promise<void>;
}

/** The shipped configuration, pointed at `apiUrl` for its callbacks and `relayPort` for its push, on this layout's ports. */
export function productionConf(apiUrl: string, relayPort: number): (l: NginxLayout) => string {
  return (l) =>
    readFileSync('ops/nginx-rtmp/nginx.conf', 'utf8')
      .replace('listen 1935;', `listen 127.0.0.1:${l.rtmpPort};`)
      .replace('push rtmp://127.0.0.1:1936/live;', `push rtmp://127.0.0.1:${relayPort}/live;`)
      .replace('listen 8088;', `listen 127.0.0.1:${l.httpPort};`)
      .replaceAll('http://127.0.0.1:8080/', `${apiUrl}/`)
      .replace('hls_path /var/lib/airwaves-nginx/hls;', `hls_path ${l.hlsDir};`)
      .replace('error_log logs/error.log warn;', `error_log ${join(l.prefix, 'logs', 'error.log')} info;\ndaemon off;`);
}

/**
 * A one-process nginx-rtmp for benchmarks: `hls on` with 1 s fragments (nginx-rtmp's own remux),
 * and with `serveHls` an HTTP server handing those files out (the plain-HLS peer of our viewers).
 */
export function benchConf(options: { serveHls?: boolean } = {}): (l: NginxLayout) => string {
  return (l) => {
    const tmp = join(l.prefix, 'tmp');
    const http = options.serveHls
      ? `http {
  access_log off;
  client_body_temp_path ${tmp}; proxy_temp_path ${tmp}; fastcgi_temp_path ${tmp}; uwsgi_temp_path ${tmp}; scgi_temp_path ${tmp};
  keepalive_requests 100000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:${l.httpPort}; location /hls/ { alias ${l.hlsDir}/; add_header Cache-Control no-cache; } }
}
`
      : '';
    return `load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid nginx.pid;
error_log ${join(l.prefix, 'logs', 'error.log')} warn;
events { worker_connections 16000; }
rtmp { server { listen 127.0.0.1:${l.rtmpPort}; chunk_size 4096; application live { live on; record off; hls on; hls_path ${l.hlsDir}; hls_fragment 1s; hls_playlist_length 6s; } } }
${http}`;
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Starts nginx with the configuration `conf` writes for a fresh prefix; resolves once RTMP accepts. */
export async function startNginxRtmp(conf: (l: NginxLayout) => string, timeoutMs = 15_000): Promise<NginxRtmp> {
  const prefix = mkdtempSync(join(tmpdir(), 'airwaves-nginx-rtmp-'));
  chmodSync(prefix, 0o755); // nginx's workers run as an unprivileged user: they read the prefix
  for (const d of ['logs', 'hls', 'tmp']) mkdirSync(join(prefix, d));
  chmodSync(join(prefix, 'hls'), 0o777);
  chmodSync(join(prefix, 'tmp'), 0o777);
  const layout: NginxLayout = { prefix, hlsDir: join(prefix, 'hls'), rtmpPort: await freePort(), httpPort: await freePort() };
  writeFileSync(join(prefix, 'nginx.conf'), conf(layout));
  const nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => (nginx.exitCode !== null ? r() : nginx.once('exit', () => r())));
  const stop = async () => {
    // TERM is nginx's fast shutdown and takes its workers along (a KILLed master would orphan them).
    if (nginx.exitCode === null) nginx.kill('SIGTERM');
    const late = setTimeout(() => nginx.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(late);
    rmSync(prefix, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(layout.rtmpPort))) {
    if (nginx.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx-rtmp did not start: ${stderr || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ...layout, pid: nginx.pid!, rtmpUrl: (name) => `rtmp://127.0.0.1:${layout.rtmpPort}/live/${name}`, stderr: () => stderr, stop };
}
