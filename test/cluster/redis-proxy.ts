/**
 * @module test/cluster/redis-proxy
 * A loopback TCP proxy in front of a real redis-server that forces the interleavings the Redis
 * engine must survive, on one node's connections only: hold back what Redis pushes on the
 * pub/sub connection (a PUBLISH arriving after the history reply), cut the command connection
 * and keep it from running scripts for a while (the subscriber stays up), refuse reconnects for
 * a while (a subscriber that stays down while others publish).
 *
 * A connection counts as pub/sub once it has sent a SUBSCRIBE; the rest are command connections.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  pubsub: boolean;
  held: Buffer[] | null;
}

export class RedisProxy {
  private readonly links = new Set<Link>();
  private refuseUntil = 0;
  private noScriptsUntil = 0;
  private holding = false;
  /** Command connections cut because they tried to run a script while cut off. */
  scriptRefusals = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<RedisProxy> {
    const links: { proxy?: RedisProxy } = {};
    const server = createServer((client) => links.proxy!.accept(client, redisPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    links.proxy = new RedisProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
    return links.proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, redisPort: number): void {
    if (Date.now() < this.refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(redisPort, '127.0.0.1');
    const link: Link = { client, upstream, pubsub: false, held: null };
    this.links.add(link);
    client.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      // The command name as RESP sends it (a script's text may say "subscribe" too).
      if (!link.pubsub && /\$\d+\r\n[ps]?subscribe\r\n/i.test(text)) link.pubsub = true;
      if (!link.pubsub && Date.now() < this.noScriptsUntil && /evalsha|\beval\b/i.test(text)) {
        this.scriptRefusals++;
        this.drop(link);
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (link.pubsub && this.holding) (link.held ??= []).push(d);
      else client.write(d);
    });
    const end = () => this.drop(link);
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.destroy();
    link.upstream.destroy();
  }

  /** Holds back everything Redis sends on pub/sub connections (their PUBLISH messages) until release. */
  holdPubSub(): void {
    this.holding = true;
  }

  releasePubSub(): void {
    this.holding = false;
    for (const link of this.links) {
      if (!link.held) continue;
      for (const d of link.held) link.client.write(d);
      link.held = null;
    }
  }

  /** Cuts the command connections; for `ms`, any connection that runs a script is cut too. Pub/sub stays up. */
  cutCommands(ms: number): void {
    this.noScriptsUntil = Date.now() + ms;
    for (const link of [...this.links]) if (!link.pubsub) this.drop(link);
  }

  /** Refuses new connections for `ms` (what is connected stays). */
  refuseConnections(ms: number): void {
    this.refuseUntil = Date.now() + ms;
  }

  get pubsubConnections(): number {
    return [...this.links].filter((l) => l.pubsub).length;
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) this.drop(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
