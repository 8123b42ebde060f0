/**
 * @module apps/studio/migrations
 * The studio schema. Every index here exists for a query in queries.ts: keyset pagination needs
 * (sort column, id) in the same order the list sorts, the review queue has a partial index of its
 * own, jsonb containment and array overlap go through GIN, and full-text search reads a stored
 * tsvector (title weighted above persona and emotion) through GIN.
 */
import { sql, type Kysely, type Migration } from 'kysely';

import { CONVERSATION_STATUSES, JOB_STATUSES, TIERS } from './shared/vocabulary.js';

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const migrations: Record<string, Migration> = {
  '0001_studio_schema': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table studio_templates (
          id uuid primary key default gen_random_uuid(),
          name text not null unique,
          description text not null default '',
          tier text not null default 'template' check (tier in (${list(TIERS)})),
          system_prompt text not null,
          opening_line text not null,
          variables jsonb not null default '[]'::jsonb,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);
      await sql`
        create table studio_scenarios (
          id uuid primary key default gen_random_uuid(),
          name text not null unique,
          description text not null default '',
          persona text not null,
          emotion text not null,
          category text[] not null default '{}',
          context text not null default '',
          parameters jsonb not null default '{}'::jsonb,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);
      await sql`
        create table studio_conversations (
          id uuid primary key default gen_random_uuid(),
          title text not null,
          persona text not null default '',
          emotion text not null default '',
          tier text not null check (tier in (${list(TIERS)})),
          status text not null default 'draft' check (status in (${list(CONVERSATION_STATUSES)})),
          category text[] not null default '{}',
          quality_score real not null default 0 check (quality_score between 0 and 10),
          parameters jsonb not null default '{}'::jsonb,
          review_history jsonb not null default '[]'::jsonb,
          template_id uuid references studio_templates(id) on delete set null,
          scenario_id uuid references studio_scenarios(id) on delete set null,
          job_id uuid,
          turn_count integer not null default 0,
          prompt_tokens integer not null default 0,
          completion_tokens integer not null default 0,
          total_tokens integer not null default 0,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          search tsvector generated always as (
            setweight(to_tsvector('english', title), 'A') ||
            setweight(to_tsvector('english', persona), 'B') ||
            setweight(to_tsvector('english', emotion), 'C')
          ) stored
        )`.execute(db);
      await sql`
        create table studio_conversation_turns (
          conversation_id uuid not null references studio_conversations(id) on delete cascade,
          turn_number integer not null,
          role text not null check (role in ('system', 'user', 'assistant')),
          content text not null,
          tokens integer not null default 0,
          primary key (conversation_id, turn_number)
        )`.execute(db);
      await sql`
        create table studio_generation_jobs (
          id uuid primary key default gen_random_uuid(),
          template_id uuid not null references studio_templates(id),
          scenario_ids uuid[] not null,
          requested integer not null check (requested > 0),
          completed integer not null default 0,
          failed integer not null default 0,
          status text not null default 'queued' check (status in (${list(JOB_STATUSES)})),
          generator text not null,
          error text,
          created_at timestamptz(3) not null default now(),
          started_at timestamptz(3),
          finished_at timestamptz(3),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);

      const c = 'studio_conversations';
      const indexes = [
        // Single-column btrees from the spec; the keyset ones below carry id for exact cursors.
        `create index ${c}_status_idx on ${c} (status)`,
        `create index ${c}_tier_idx on ${c} (tier)`,
        `create index ${c}_quality_idx on ${c} (quality_score, id)`,
        `create index ${c}_created_idx on ${c} (created_at desc, id desc)`,
        `create index ${c}_updated_idx on ${c} (updated_at desc, id desc)`,
        `create index ${c}_title_idx on ${c} (title, id)`,
        `create index ${c}_tokens_idx on ${c} (total_tokens, id)`,
        `create index ${c}_status_quality_idx on ${c} (status, quality_score, id)`,
        `create index ${c}_status_created_idx on ${c} (status, created_at desc, id desc)`,
        `create index ${c}_tier_status_created_idx on ${c} (tier, status, created_at desc, id desc)`,
        // The review queue: oldest pending first; only pending rows are in it, so it stays small.
        `create index ${c}_review_queue_idx on ${c} (created_at, id) where status = 'pending_review'`,
        `create index ${c}_parameters_idx on ${c} using gin (parameters jsonb_path_ops)`,
        `create index ${c}_review_history_idx on ${c} using gin (review_history jsonb_path_ops)`,
        `create index ${c}_category_idx on ${c} using gin (category)`,
        `create index ${c}_search_idx on ${c} using gin (search)`,
        `create index ${c}_template_idx on ${c} (template_id)`,
        `create index ${c}_scenario_idx on ${c} (scenario_id)`,
        `create index ${c}_job_idx on ${c} (job_id)`,
        `create index studio_generation_jobs_status_idx on studio_generation_jobs (status, created_at)`,
      ];
      for (const ddl of indexes) await sql.raw(ddl).execute(db);
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['studio_conversation_turns', 'studio_conversations', 'studio_generation_jobs', 'studio_scenarios', 'studio_templates']) {
        await sql.raw(`drop table if exists ${t} cascade`).execute(db);
      }
    },
  },
  '0002_search_in_recency_indexes': {
    // Relevance ranks the newest RANK_CANDIDATES matches (queries.ts). Through the GIN index that
    // meant reading every match's heap row to learn its date: a common word matched 25,000–52,000
    // of 1M rows and finding the newest 1,000 cost 50–97 ms (37–57 ms with a status filter). With
    // the tsvector carried in the recency indexes, the planner walks them newest first, tests each
    // index tuple (no heap) and stops at the 1,000th match: 11–24 ms. Rare words and terms it
    // expects to be rare still go through GIN. Same names and keys, so every other plan is unchanged.
    async up(db: Kysely<unknown>) {
      const c = 'studio_conversations';
      await sql.raw(`drop index if exists ${c}_created_idx`).execute(db);
      await sql.raw(`create index ${c}_created_idx on ${c} (created_at desc, id desc) include (search)`).execute(db);
      await sql.raw(`drop index if exists ${c}_status_created_idx`).execute(db);
      await sql.raw(`create index ${c}_status_created_idx on ${c} (status, created_at desc, id desc) include (search)`).execute(db);
    },
    async down(db: Kysely<unknown>) {
      const c = 'studio_conversations';
      await sql.raw(`drop index if exists ${c}_created_idx`).execute(db);
      await sql.raw(`create index ${c}_created_idx on ${c} (created_at desc, id desc)`).execute(db);
      await sql.raw(`drop index if exists ${c}_status_created_idx`).execute(db);
      await sql.raw(`create index ${c}_status_created_idx on ${c} (status, created_at desc, id desc)`).execute(db);
    },
  },
  '0003_count_index': {
    // The exact (capped) count of a filter bar — a status, often a tier, a quality floor, a
    // category — was a BitmapAnd of 80,000–315,000-entry bitmaps from the single-column indexes
    // plus a heap visit per match: 50–90 ms at 1M rows. With the status, tier, quality and
    // categories in one btree the count is an index-only scan of the (status[, tier]) range,
    // testing quality and categories on the index tuple. See docs/studio.md.
    async up(db: Kysely<unknown>) {
      const c = 'studio_conversations';
      await sql.raw(`create index if not exists ${c}_count_idx on ${c} (status, tier, quality_score) include (category)`).execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql.raw('drop index if exists studio_conversations_count_idx').execute(db);
    },
  },
  '0004_job_claims': {
    // Jobs are claimed by one node at a time (FOR UPDATE SKIP LOCKED, a lease another node may take
    // over once it expires: jobs.ts), and each (job, position) is written at most once, so two nodes
    // sharing the database never duplicate a job's outputs.
    async up(db: Kysely<unknown>) {
      await sql`alter table studio_generation_jobs add column claimed_by text, add column lease_until timestamptz(3)`.execute(db);
      await sql`alter table studio_conversations add column job_position integer`.execute(db);
      await sql`create unique index studio_conversations_job_position_idx on studio_conversations (job_id, job_position) where job_id is not null and job_position is not null`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop index if exists studio_conversations_job_position_idx`.execute(db);
      await sql`alter table studio_conversations drop column if exists job_position`.execute(db);
      await sql`alter table studio_generation_jobs drop column if exists claimed_by, drop column if exists lease_until`.execute(db);
    },
  },
  '0005_turn_edits': {
    // A curator may correct a turn; every edit keeps who, when and the text before it, so a
    // conversation used for training can always be traced back to what was generated.
    async up(db: Kysely<unknown>) {
      await sql`
        create table studio_turn_edits (
          id bigint generated always as identity primary key,
          conversation_id uuid not null,
          turn_number integer not null,
          at timestamptz(3) not null default now(),
          editor text,
          before text not null,
          foreign key (conversation_id, turn_number) references studio_conversation_turns (conversation_id, turn_number) on delete cascade
        )`.execute(db);
      await sql`create index studio_turn_edits_turn_idx on studio_turn_edits (conversation_id, turn_number, id)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop table if exists studio_turn_edits`.execute(db);
    },
  },
  '0006_seed_rows_index': {
    // `generator=seed` is `job_id is null`. The job_id btree finds those rows (the count uses it)
    // but not in date order, and walking the recency index tests job_id in the heap
    // row by row: where most rows come from jobs, a page of seed rows examined thousands of rows.
    // This index holds the seed rows alone, newest first: a page is one read of 51 entries
    // (test/studio/query-plans-*.test.ts, with the index dropped as the peer).
    async up(db: Kysely<unknown>) {
      await sql`create index if not exists studio_conversations_seed_created_idx on studio_conversations (created_at desc, id desc) where job_id is null`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop index if exists studio_conversations_seed_created_idx`.execute(db);
    },
  },
};
