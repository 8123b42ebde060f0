/**
 * @module apps/studio/turn-edits
 * A curator corrects a turn: the new text replaces the old one, the conversation's token counts
 * follow, and the old text is kept with who changed it and when (studio_turn_edits), so every
 * conversation can be traced back to what its generator wrote.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import { estimateTokens } from './content.js';
import { isoUtc } from './filters.js';
import type { StudioDB } from './types.js';

/** Longest text a turn may be edited to (the UI shows the limit). */
export const TURN_MAX_CHARS = 20_000;

export interface TurnEdit {
  at: string;
  editor: string | null;
  before: string;
}

export interface EditedTurn {
  turn: number;
  role: string;
  content: string;
  tokens: number;
  edits: TurnEdit[];
}

/** A turn's edits, oldest first, as a JSON array (`alias` is the studio_conversation_turns row). */
export function turnEditsJson(alias: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`coalesce((select json_agg(json_build_object('at', ${isoUtc(sql`e.at`)}, 'editor', e.editor, 'before', e.before) order by e.id)
    from studio_turn_edits e where e.conversation_id = ${alias}.conversation_id and e.turn_number = ${alias}.turn_number), '[]'::json)`;
}

/**
 * Replaces turn `turn` of conversation `id` with `content`. `expected` is the text the editor saw:
 * if someone changed it meanwhile the edit is refused (409), never silently overwritten. Editing
 * to the same text records nothing.
 */
export async function editTurn(db: Kysely<StudioDB>, edit: { id: string; turn: number; content: string; expected?: string; editor: string | null }): Promise<EditedTurn> {
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom('studio_conversation_turns')
      .select(['role', 'content', 'tokens'])
      .where('conversation_id', '=', edit.id)
      .where('turn_number', '=', edit.turn)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw new AirwavesError(Errors.notFound, `conversation ${edit.id} has no turn ${edit.turn}`);
    if (edit.expected !== undefined && edit.expected !== current.content) {
      throw new AirwavesError(Errors.conflict, `turn ${edit.turn} was changed by someone else since it was loaded; reload it and edit again`);
    }
    if (edit.content !== current.content) {
      const tokens = estimateTokens(edit.content);
      const delta = tokens - current.tokens;
      await tx.insertInto('studio_turn_edits').values({ conversation_id: edit.id, turn_number: edit.turn, editor: edit.editor, before: current.content }).execute();
      await tx.updateTable('studio_conversation_turns').set({ content: edit.content, tokens }).where('conversation_id', '=', edit.id).where('turn_number', '=', edit.turn).execute();
      // The assistant's turns are the completion, the others the prompt (as store.ts counts them).
      const side = current.role === 'assistant' ? sql.ref('completion_tokens') : sql.ref('prompt_tokens');
      await sql`update studio_conversations set ${side} = ${side} + ${delta}, total_tokens = total_tokens + ${delta}, updated_at = now() where id = ${edit.id}::uuid`.execute(tx);
    }
    const { rows } = await sql<{ j: EditedTurn }>`
      select json_build_object('turn', ct.turn_number, 'role', ct.role, 'content', ct.content, 'tokens', ct.tokens, 'edits', ${turnEditsJson(sql`ct`)}) as j
      from studio_conversation_turns ct where ct.conversation_id = ${edit.id}::uuid and ct.turn_number = ${edit.turn}
    `.execute(tx);
    return rows[0]!.j;
  });
}
