/**
 * @module apps/support/schema
 * The help desk's tables and their migrations (run in the app's own migration table, on PGlite
 * or PostgreSQL alike), plus the demo users seeded so the UI can log in without a user admin.
 */
import { sql, type Generated, type Kysely, type Migration } from 'kysely';
import { DEMO_USERS } from './shared/demo-users.js';

export interface SupportDB {
  support_users: { id: string; name: string; role: 'agent' | 'customer'; created_at: Generated<Date> };
  support_tickets: {
    id: string;
    subject: string;
    requester_id: string;
    assignee_id: string | null;
    status: 'open' | 'pending' | 'solved' | 'closed';
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  support_messages: {
    /** Keyset paging key: increases with insertion, so "before id" is a stable page boundary. */
    id: Generated<string | number | bigint>;
    ticket_id: string;
    author_id: string;
    body: string;
    event_id: string;
    /** The client's idempotency key (Idempotency-Key header): a retry returns the stored message. */
    client_key: string | null;
    created_at: Generated<Date>;
  };
  /** Events written with the change they announce, relayed to the event log (outbox.ts). */
  support_outbox: {
    id: Generated<string>;
    event_id: string;
    /** Node that wrote the row: it relays its own rows at once, others only orphans. */
    origin: string;
    channels: string;
    event: string;
    attempts: Generated<number>;
    claimed_by: string | null;
    claimed_until: Date | null;
    delivered_at: Date | null;
    last_error: string | null;
    created_at: Generated<Date>;
  };
  support_remote_sessions: {
    id: string;
    ticket_id: string;
    agent_id: string;
    requester_id: string;
    control_mode: 'view_only' | 'full_control';
    started_at: Generated<Date>;
    ended_at: Date | null;
  };
}

// Migrations take Kysely<any>: they describe the schema before the types above exist.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const supportMigrations: Record<string, Migration> = {
  '0001_init': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('support_users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('agent','customer')`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('support_tickets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('requester_id', 'text', (c) => c.notNull().references('support_users.id'))
        .addColumn('assignee_id', 'text', (c) => c.references('support_users.id'))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open','pending','solved','closed')`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('support_tickets_requester').on('support_tickets').columns(['requester_id', 'updated_at']).execute();
      await db.schema.createIndex('support_tickets_updated').on('support_tickets').column('updated_at').execute();
      await db.schema
        .createTable('support_messages')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('ticket_id', 'text', (c) => c.notNull().references('support_tickets.id').onDelete('cascade'))
        .addColumn('author_id', 'text', (c) => c.notNull().references('support_users.id'))
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // History pages walk (ticket_id, id) backwards: one index range scan per page.
      await db.schema.createIndex('support_messages_ticket_id').on('support_messages').columns(['ticket_id', 'id']).execute();
      await db.schema
        .createTable('support_remote_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ticket_id', 'text', (c) => c.notNull().references('support_tickets.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('support_users.id'))
        .addColumn('requester_id', 'text', (c) => c.notNull().references('support_users.id'))
        .addColumn('control_mode', 'text', (c) => c.notNull().check(sql`control_mode in ('view_only','full_control')`))
        .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('ended_at', 'timestamptz')
        .execute();
      // At most one live session per ticket, enforced by the database (two agents clicking at once).
      await sql`create unique index support_remote_sessions_live on support_remote_sessions (ticket_id) where ended_at is null`.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const t of ['support_remote_sessions', 'support_messages', 'support_tickets', 'support_users']) await db.schema.dropTable(t).ifExists().execute();
    },
  },
  '0002_outbox_and_idempotency': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('support_outbox')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('channels', 'jsonb', (c) => c.notNull())
        .addColumn('event', 'jsonb', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_until', 'timestamptz')
        .addColumn('delivered_at', 'timestamptz')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // The relay's scan: only undelivered rows, in order.
      await sql`create index support_outbox_undelivered on support_outbox (id) where delivered_at is null`.execute(db);
      await db.schema.alterTable('support_messages').addColumn('client_key', 'text').execute();
      // One message per author and key: the retry of a post that did get stored finds it.
      await sql`create unique index support_messages_client_key on support_messages (author_id, client_key) where client_key is not null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('support_outbox').ifExists().execute();
      await sql`drop index if exists support_messages_client_key`.execute(db);
      await db.schema.alterTable('support_messages').dropColumn('client_key').execute();
    },
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Inserts the demo users if missing (idempotent: every node may run it at start). */
export async function seedDemoUsers(db: Kysely<SupportDB>): Promise<void> {
  await db
    .insertInto('support_users')
    .values(DEMO_USERS.map((u) => ({ id: u.id, name: u.name, role: u.role })))
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
