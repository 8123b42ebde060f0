/**
 * @module hub/commands
 * The protocol's commands, run for one client session: every frame a client sends enters here
 * (docs/protocol.md). A text frame is rate-limited, parsed, and run; a binary frame is a
 * publication on a media namespace. Failures become error replies with the command's id (and
 * close the socket when their error says so); nothing a client sends can crash the hub.
 *
 * Publications (`publish`, `send`, binary frames) go through the one publish pipeline
 * (./publish-pipeline.ts); subscriptions through the local channels (./channels.ts).
 */
import type { RawData } from 'ws';
import type { CoreConfig } from '../core/config.js';
import { AirwavesError, Errors, WS_CLOSE, isAirwavesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HubMetrics } from '../core/metrics.js';
import { PROTOCOL_VERSION, ProtocolError, decodeBinaryFrame, type ClientCommand, type StreamPosition } from '../protocol/index.js';
import { authorize } from './access.js';
import { TokenError, verifyToken } from './auth.js';
import type { LocalChannels } from './channels.js';
import type { ClientSession } from './client-session.js';
import { parseClientCommand } from './command-parser.js';
import type { HubEngine } from './engines/engine.js';
import { encodeError, encodeReply } from './frame-encoding.js';
import type { NamespaceRegistry } from './namespace.js';
import type { PublishPipeline } from './publish-pipeline.js';

export interface CommandRunnerOptions {
  config: CoreConfig;
  nodeId: string;
  namespaces: NamespaceRegistry;
  engine: HubEngine;
  channels: LocalChannels;
  pipeline: PublishPipeline;
  metrics: HubMetrics;
  logger: Logger;
}

export class CommandRunner {
  private readonly config: CoreConfig;
  private readonly metrics: HubMetrics;
  private readonly log: Logger;

  constructor(private readonly options: CommandRunnerOptions) {
    this.config = options.config;
    this.metrics = options.metrics;
    this.log = options.logger;
  }

  /** Every frame a client sends: rate-limited, then a binary publication or a parsed command. */
  onFrame(session: ClientSession, data: RawData, isBinary: boolean): void {
    if (session.closed) return;
    if (!session.commandBucket.take(1)) {
      this.metrics.rejected.inc({ reason: 'rate_limited' });
      // Answer the command it refused, so the client's request settles instead of timing out.
      // The id is read without a full parse: a flood is exactly when parsing should stay cheap.
      const id = isBinary ? undefined : commandIdOf(data);
      session.sendControl(encodeError(id, Errors.rateLimited.code, `more than ${this.config.commandRatePerSecond} commands/s`));
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      void this.binaryFrame(session, bytes);
      return;
    }
    let command: ClientCommand;
    try {
      command = parseClientCommand(bytes.toString('utf8'));
    } catch (err) {
      const e = err as ProtocolError;
      this.metrics.rejected.inc({ reason: e.code });
      session.sendControl(encodeError(e.id, e.code, e.message));
      return;
    }
    this.run(session, command).catch((err: unknown) => this.replyError(session, command.id, err));
  }

  private async run(session: ClientSession, cmd: ClientCommand): Promise<void> {
    if (cmd.op === 'connect') return this.connect(session, cmd.id, cmd.token);
    if (cmd.op === 'ping') return session.sendControl(encodeReply(cmd.id, { ts: Date.now() }));
    if (!session.connected) {
      if (!this.config.allowAnonymous) throw new AirwavesError(Errors.unauthorized, 'send connect with a token first');
      session.connected = true;
    }
    switch (cmd.op) {
      case 'subscribe':
        return this.subscribe(session, cmd.id, cmd.channel, cmd.since);
      case 'unsubscribe': {
        const sub = session.subscriptions.get(cmd.channel);
        if (!sub) throw new AirwavesError(Errors.notSubscribed, `not subscribed to "${cmd.channel}"`);
        this.options.channels.unsubscribe(sub);
        return session.sendControl(encodeReply(cmd.id, { channel: cmd.channel }));
      }
      case 'publish': {
        const outcome = await this.options.pipeline.publish(cmd.channel, { door: 'client-publish', client: session, data: cmd.data, key: cmd.key });
        return session.sendControl(encodeReply(cmd.id, outcome));
      }
      case 'send':
        // No reply on success: a signal; a refusal is an error reply with the command's id.
        await this.options.pipeline.publish(cmd.channel, { door: 'client-send', client: session, data: cmd.data });
        return;
      case 'presence': {
        const ns = this.options.namespaces.resolve(cmd.channel);
        if (!ns.config.presence) throw new AirwavesError(Errors.presenceDisabled, `presence is off in namespace "${ns.config.name}"`);
        await authorize(session.id, session.identity, ns, 'subscribe', cmd.channel);
        return session.sendControl(encodeReply(cmd.id, { channel: cmd.channel, clients: await this.options.channels.presenceOf(cmd.channel) }));
      }
      case 'history': {
        const ns = this.options.namespaces.resolve(cmd.channel);
        await authorize(session.id, session.identity, ns, 'subscribe', cmd.channel);
        const slice = await this.options.engine.history(cmd.channel, 0, Math.min(cmd.limit ?? 100, 1000), ns.retentionOf(cmd.channel));
        const pubs = slice.messages.map((m) => ({ offset: m.offset, ts: m.ts, key: m.key, data: m.json === undefined ? null : JSON.parse(m.json) }));
        return session.sendControl(encodeReply(cmd.id, { channel: cmd.channel, epoch: slice.epoch, offset: slice.top, publications: pubs }));
      }
    }
  }

  private async connect(session: ClientSession, id: number, token: string | undefined): Promise<void> {
    if (session.connected && session.identity.user !== null) throw new AirwavesError(Errors.alreadyConnected);
    if (token !== undefined) {
      try {
        session.identity = await verifyToken(token, this.config.jwtSecret);
      } catch (err) {
        const reason = err instanceof TokenError ? err.message : 'bad token';
        this.metrics.rejected.inc({ reason: 'unauthorized' });
        session.sendControl(encodeError(id, Errors.unauthorized.code, reason));
        session.closeWith(WS_CLOSE.unauthorized, reason.slice(0, 120));
        return;
      }
      session.setExpiry(session.identity.expiresAt, () => session.closeWith(WS_CLOSE.unauthorized, 'token expired'));
    } else if (!this.config.allowAnonymous) {
      this.metrics.rejected.inc({ reason: 'unauthorized' });
      session.sendControl(encodeError(id, Errors.unauthorized.code, 'a token is required'));
      session.closeWith(WS_CLOSE.unauthorized, 'a token is required');
      return;
    }
    session.connected = true;
    session.sendControl(encodeReply(id, { client: session.id, user: session.identity.user, version: PROTOCOL_VERSION, node: this.options.nodeId }));
  }

  private async subscribe(session: ClientSession, id: number, channel: string, since: StreamPosition | undefined): Promise<void> {
    const ns = this.options.namespaces.resolve(channel);
    this.checkCanSubscribe(session, channel);
    await authorize(session.id, session.identity, ns, 'subscribe', channel);
    // Authorization may await a hook, so other subscribes can land meanwhile: check both limits again.
    if (session.closed) return;
    this.checkCanSubscribe(session, channel);
    await this.options.channels.subscribe(session, id, ns, channel, since);
  }

  private checkCanSubscribe(session: ClientSession, channel: string): void {
    if (session.subscriptions.has(channel)) throw new AirwavesError(Errors.alreadySubscribed, `already subscribed to "${channel}"`);
    if (session.subscriptions.size >= this.config.maxSubscriptionsPerClient) {
      throw new AirwavesError(Errors.tooManySubscriptions, `at most ${this.config.maxSubscriptionsPerClient} subscriptions per connection`);
    }
  }

  /** A binary frame: a publication on a media namespace. It has no id, so refusals carry none. */
  private async binaryFrame(session: ClientSession, bytes: Buffer): Promise<void> {
    try {
      const frame = decodeBinaryFrame(bytes);
      await this.options.pipeline.publish(frame.channel, { door: 'client-binary', client: session, binary: frame.payload });
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.metrics.rejected.inc({ reason: err.code });
        session.sendControl(encodeError(undefined, err.code, err.message));
      } else this.replyError(session, undefined, err);
    }
  }

  private replyError(session: ClientSession, id: number | undefined, err: unknown): void {
    if (isAirwavesError(err)) {
      this.metrics.rejected.inc({ reason: err.code });
      session.sendControl(encodeError(id, err.code, err.message, err.retryAfterMs));
      if (err.closeCode) session.closeWith(err.closeCode, err.message.slice(0, 120));
      return;
    }
    this.log.error({ err, client: session.id }, 'command failed');
    session.sendControl(encodeError(id, Errors.internal.code, Errors.internal.message));
  }
}

const COMMAND_ID = /^\s*\{[^{}]*?"id"\s*:\s*(\d{1,15})\b/;

/** The `id` of a text command, read from its first bytes; undefined when it is not there. */
function commandIdOf(data: RawData): number | undefined {
  const head = (Array.isArray(data) ? data[0] : Buffer.isBuffer(data) ? data : Buffer.from(data))?.subarray(0, 128).toString('latin1');
  const match = head ? COMMAND_ID.exec(head) : null;
  return match ? Number(match[1]) : undefined;
}
