/**
 * @module apps/support
 * The help desk app: customers and agents chat in a ticket's room with typing indicators;
 * status, assignment and remote-session changes reach everyone entitled to them at once.
 *
 * Hub namespaces it owns:
 * - `support` — `support:room:<ticketId>` (the ticket's room: chat, typing, status, assignment)
 *   and `support:agents` (live ticket list). Server-published only: every event passes the
 *   event log and, for typing, the coalescer; clients only subscribe.
 * - `support-user` — `support-user:<userId>`, a user's personal notices (remote sessions).
 * - `support-typing` — `support-typing:<ticketId>`, where clients publish their typing state over
 *   the WebSocket. Nobody can subscribe to it: the hook validates the state and hands it to the
 *   coalescer, whose output is what the room sees.
 */
import type { Kysely } from 'kysely';
import type { AirwavesApp, AppContext } from '../app.js';
import { AirwavesError, Errors } from '../../core/errors.js';
import { AGENTS_CHANNEL, ROOM_PREFIX, SupportEventBus, TYPING_INPUT_PREFIX, roomChannel, userChannel } from './event-bus.js';
import { clientTypingSchema, describeIssues, makeEvent } from './events.js';
import { SupportDesk } from './desk.js';
import { SupportOutbox, outboxMetrics } from './outbox.js';
import { registerCollectedGauge } from '../../events/publisher-metrics.js';
import { listenForUserChanges } from './user-cache-sync.js';
import { registerSupportRoutes } from './routes.js';
import { seedDemoUsers, supportMigrations, type SupportDB } from './schema.js';
import { TypingCoalescer, typingCounters, type TypingSignal } from './typing.js';
import type { SupportConfig } from './settings.js';
import { supportManifest } from './manifest.js';

export { SupportDesk } from './desk.js';
export { SupportEventBus, roomChannel, userChannel, AGENTS_CHANNEL } from './event-bus.js';

export interface SupportApp extends AirwavesApp<SupportConfig> {
  /** Set once registered (tests and benchmarks drive the desk and read coalescing figures). */
  desk?: SupportDesk;
  typing?: TypingCoalescer;
  bus?: SupportEventBus;
  outbox?: SupportOutbox;
}

function ticketIdOf(channel: string, prefix: string): string | null {
  if (!channel.startsWith(prefix)) return null;
  const id = channel.slice(prefix.length);
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
}

/** Builds a help desk app instance (one per server; tests start several servers in one process). */
export function createSupportApp(): SupportApp {
  const app: SupportApp = {
    ...supportManifest,
    async register(ctx: AppContext<SupportConfig>) {
      const database = await ctx.database();
      await database.migrate('support', supportMigrations);
      const db = database.db as Kysely<SupportDB>;
      await seedDemoUsers(db);

      const bus = new SupportEventBus(ctx);
      const emitTyping = (s: TypingSignal) => {
        const type = s.state === 'start' ? 'typing_start' : 'typing_stop';
        bus.emitSoon(makeEvent(type, s.roomId, { userId: s.userId, userName: s.userName }, { actorId: s.userId, actorRole: s.role }), [roomChannel(s.roomId)]);
      };
      const typing = new TypingCoalescer(emitTyping, typingCounters(ctx.metrics));
      const outbox = new SupportOutbox({ db, emitter: bus, nodeId: ctx.hub.nodeId, log: ctx.logger, metrics: outboxMetrics(ctx.metrics), pollMs: ctx.config.supportOutboxPollMs, shared: database.engine === 'postgres' });
      registerCollectedGauge(ctx.metrics, 'support_outbox_pending', 'Help desk events stored and not yet relayed to the event log (grows while the log refuses them)', [], async (set) => set({}, await outbox.pending()));
      const desk = new SupportDesk(db, outbox, typing);
      Object.assign(app, { desk, typing, bus, outbox });
      const stopListening = await listenForUserChanges(database, { forget: (id) => desk.forgetUser(id), forgetAll: () => desk.forgetAllUsers() }, ctx.logger);

      ctx.hub.registerNamespace(
        { name: 'support', subscribe: 'authenticated', publish: 'server', historySize: 200, historyTtlSeconds: 3600, maxMessageBytes: 32 * 1024, presence: true },
        {
          async authorize(action, { identity, channel }) {
            if (action !== 'subscribe' || identity.user === null) return false;
            if (channel === AGENTS_CHANNEL) return (await desk.user(identity.user))?.role === 'agent';
            const ticketId = ticketIdOf(channel, ROOM_PREFIX);
            return ticketId !== null && desk.canWatchRoom(identity.user, ticketId);
          },
        },
      );
      ctx.hub.registerNamespace(
        { name: 'support-user', subscribe: 'authenticated', publish: 'server', historySize: 100, historyTtlSeconds: 3600 },
        { authorize: (action, { identity, channel }) => action === 'subscribe' && identity.user !== null && channel === userChannel(identity.user) },
      );
      ctx.hub.registerNamespace(
        // Input-only (nobody subscribes, no history): the hub hands each publication to the hook
        // below and sends nothing through the engine.
        { name: 'support-typing', subscribe: 'server', publish: 'authenticated', historySize: 0, historyTtlSeconds: 0, maxMessageBytes: 256 },
        {
          async authorize(action, { identity, channel }) {
            const ticketId = ticketIdOf(channel, TYPING_INPUT_PREFIX);
            return action === 'publish' && identity.user !== null && ticketId !== null && desk.canWatchRoom(identity.user, ticketId);
          },
          async onClientPublish({ identity, channel }, data) {
            const parsed = clientTypingSchema.safeParse(data);
            if (!parsed.success) throw new AirwavesError(Errors.badRequest, `invalid typing event: ${describeIssues(parsed.error, 'data')}`);
            const user = await desk.user(identity.user!);
            if (!user) throw new AirwavesError(Errors.forbidden, 'not a help desk user');
            const ticketId = ticketIdOf(channel, TYPING_INPUT_PREFIX)!;
            typing.offer({ roomId: ticketId, userId: user.id, userName: user.name, role: user.role, state: parsed.data.type === 'typing_start' ? 'start' : 'stop' });
          },
        },
      );

      registerSupportRoutes(ctx.http, desk, ctx.auth);
      // Only now: rows left from before (a crash between commit and append) are relayed at once,
      // and the hub would refuse them while the namespaces they go to did not exist yet.
      outbox.start();

      ctx.onClose(async () => {
        typing.flush();
        await outbox.stop();
        await stopListening();
      });
      ctx.logger.info({ transport: bus.transport }, 'help desk ready');
    },
  };
  return app;
}

export const supportApp: SupportApp = createSupportApp();
