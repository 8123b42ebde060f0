/**
 * @module apps/studio/export
 * Exports any filter as JSONL for fine-tuning: OpenAI chat format, ShareGPT or Alpaca. The
 * stream pages by keyset (id order) and fetches each page's turns in one query, so memory holds
 * one page whatever the size of the export, and the HTTP socket's back-pressure paces the reads.
 */
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { whereOf, type Filters } from './filters.js';
import type { StudioDB, Turn } from './types.js';

export const EXPORT_FORMATS = ['openai', 'sharegpt', 'alpaca'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const PAGE = 500;

export function formatLine(format: ExportFormat, turns: Turn[], meta: { id: string; title: string }): string | null {
  if (!turns.length) return null;
  switch (format) {
    case 'openai':
      return JSON.stringify({ messages: turns.map((t) => ({ role: t.role, content: t.content })) });
    case 'sharegpt': {
      const from = { system: 'system', user: 'human', assistant: 'gpt' } as const;
      return JSON.stringify({ id: meta.id, conversations: turns.map((t) => ({ from: from[t.role], value: t.content })) });
    }
    case 'alpaca': {
      // Alpaca is single-turn: instruction = system prompt, input = the dialogue up to the last
      // customer message, output = the agent's final answer.
      const lastAssistant = turns.map((t) => t.role).lastIndexOf('assistant');
      if (lastAssistant < 0) return null;
      const system = turns.find((t) => t.role === 'system')?.content ?? '';
      const dialogue = turns
        .slice(0, lastAssistant)
        .filter((t) => t.role !== 'system')
        .map((t) => `${t.role === 'user' ? 'Customer' : 'Agent'}: ${t.content}`)
        .join('\n');
      return JSON.stringify({ instruction: system, input: dialogue, output: turns[lastAssistant].content });
    }
  }
}

/** A Readable of JSONL lines for every conversation the filters select (with at least one turn). */
export function exportStream(db: Kysely<StudioDB>, filters: Filters, format: ExportFormat): Readable {
  let after: string | null = null;
  let done = false;
  return new Readable({
    highWaterMark: 64 * 1024,
    async read() {
      if (done) return;
      try {
        for (;;) {
          const page: { id: string; title: string }[] = (
            await sql<{ id: string; title: string }>`
              select c.id, c.title from studio_conversations c
              where ${whereOf(filters)} ${after ? sql`and c.id > ${after}::uuid` : sql``}
              order by c.id limit ${PAGE}
            `.execute(db)
          ).rows;
          if (!page.length) {
            done = true;
            this.push(null);
            return;
          }
          after = page[page.length - 1].id;
          const turns = await db
            .selectFrom('studio_conversation_turns')
            .select(['conversation_id', 'role', 'content'])
            .where('conversation_id', 'in', page.map((p) => p.id))
            .orderBy('conversation_id')
            .orderBy('turn_number')
            .execute();
          const byConversation = new Map<string, Turn[]>();
          for (const t of turns) {
            let list = byConversation.get(t.conversation_id);
            if (!list) byConversation.set(t.conversation_id, (list = []));
            list.push({ role: t.role, content: t.content });
          }
          const lines: string[] = [];
          for (const p of page) {
            const line = formatLine(format, byConversation.get(p.id) ?? [], p);
            if (line) lines.push(line);
          }
          if (lines.length) {
            // push() returning false means the consumer is full: wait for the next read().
            this.push(lines.join('\n') + '\n');
            return;
          }
        }
      } catch (err) {
        this.destroy(err as Error);
      }
    },
  });
}
