/**
 * @module apps/studio/store
 * Bulk writes: conversations and their turns go in as one multi-row INSERT … SELECT unnest(…)
 * per column per batch, so a batch of thousands is two statements and one round trip each,
 * on PGlite and PostgreSQL alike.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { estimateTokens } from './content.js';
import type { GeneratedConversation, ReviewEvent, StudioDB } from './types.js';

/** Inserts conversations (and turns unless `withTurns` is false) in one transaction. */
export async function insertConversations(db: Kysely<StudioDB>, rows: GeneratedConversation[], options: { withTurns?: boolean; history?: (row: GeneratedConversation) => ReviewEvent[] } = {}): Promise<string[]> {
  if (!rows.length) return [];
  const withTurns = options.withTurns ?? true;
  const ids = rows.map(() => randomUUID());
  const now = Date.now();
  const cols = {
    id: ids,
    title: [] as string[],
    persona: [] as string[],
    emotion: [] as string[],
    tier: [] as string[],
    status: [] as string[],
    // text[] per row cannot travel inside unnest (it would flatten), so each travels as an array literal.
    category: [] as string[],
    quality: [] as number[],
    parameters: [] as string[],
    history: [] as string[],
    template: [] as (string | null)[],
    scenario: [] as (string | null)[],
    job: [] as (string | null)[],
    position: [] as (number | null)[],
    turnCount: [] as number[],
    prompt: [] as number[],
    completion: [] as number[],
    created: [] as string[],
  };
  const turnCols = { conversation: [] as string[], number: [] as number[], role: [] as string[], content: [] as string[], tokens: [] as number[] };
  rows.forEach((r, i) => {
    let prompt = 0;
    let completion = 0;
    r.turns.forEach((t, n) => {
      const tokens = estimateTokens(t.content);
      if (t.role === 'assistant') completion += tokens;
      else prompt += tokens;
      if (withTurns) {
        turnCols.conversation.push(ids[i]);
        turnCols.number.push(n);
        turnCols.role.push(t.role);
        turnCols.content.push(t.content);
        turnCols.tokens.push(tokens);
      }
    });
    cols.title.push(r.title);
    cols.persona.push(r.persona);
    cols.emotion.push(r.emotion);
    cols.tier.push(r.tier);
    cols.status.push(r.status);
    cols.category.push(`{${r.category.map((c) => `"${c.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
    cols.quality.push(r.qualityScore);
    cols.parameters.push(JSON.stringify(r.parameters));
    cols.history.push(JSON.stringify(options.history?.(r) ?? []));
    cols.template.push(r.templateId);
    cols.scenario.push(r.scenarioId);
    cols.job.push(r.jobId);
    cols.position.push(r.jobPosition ?? null);
    cols.turnCount.push(r.turns.length);
    cols.prompt.push(prompt);
    cols.completion.push(completion);
    cols.created.push((r.createdAt ?? new Date(now)).toISOString());
  });
  const write = async (tx: Kysely<StudioDB>) => {
    await sql`
      insert into studio_conversations (id, title, persona, emotion, tier, status, category, quality_score, parameters, review_history,
        template_id, scenario_id, job_id, job_position, turn_count, prompt_tokens, completion_tokens, total_tokens, created_at, updated_at)
      select id, title, persona, emotion, tier, status, category::text[], quality, parameters::jsonb, history::jsonb,
        template, scenario, job, position, turn_count, prompt, completion, prompt + completion, created, created
      from unnest(${cols.id}::uuid[], ${cols.title}::text[], ${cols.persona}::text[], ${cols.emotion}::text[], ${cols.tier}::text[],
        ${cols.status}::text[], ${cols.category}::text[], ${cols.quality}::real[], ${cols.parameters}::text[], ${cols.history}::text[],
        ${cols.template}::uuid[], ${cols.scenario}::uuid[], ${cols.job}::uuid[], ${cols.position}::int[], ${cols.turnCount}::int[], ${cols.prompt}::int[],
        ${cols.completion}::int[], ${cols.created}::timestamptz[])
        as t(id, title, persona, emotion, tier, status, category, quality, parameters, history, template, scenario, job, position, turn_count, prompt, completion, created)
    `.execute(tx);
    if (withTurns && turnCols.conversation.length) {
      await sql`
        insert into studio_conversation_turns (conversation_id, turn_number, role, content, tokens)
        select * from unnest(${turnCols.conversation}::uuid[], ${turnCols.number}::int[], ${turnCols.role}::text[], ${turnCols.content}::text[], ${turnCols.tokens}::int[])
      `.execute(tx);
    }
  };
  // Inside a caller's transaction (a job chunk and its progress commit together) write directly.
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
  return ids;
}
