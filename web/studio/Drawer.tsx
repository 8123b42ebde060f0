/**
 * @module web/studio/Drawer
 * One conversation in full (loaded on demand; usually already prefetched on hover): who wrote it
 * (its generator), its turns, each correctable with its earlier texts kept, and its review history.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { TURN_MAX_CHARS, generatorLabel, type Detail, type DetailTurn } from './api.js';
import { StatusBadge, detailQuery } from './list.js';
import { useEditTurn, useSetStatus } from './mutations.js';

const when = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** Who wrote this conversation, as a badge whose tooltip says what that means. */
export function GeneratorBadge({ generator, model }: { generator: string | undefined; model?: unknown }) {
  const { label, title } = generatorLabel(generator, model);
  return (
    <span className="badge generator" title={title} data-testid="generator" data-generator={generator}>
      {label}
    </span>
  );
}

/** One turn: its text, an Edit button, and once edited, who changed it and the earlier texts. */
function TurnView({ conversation, turn }: { conversation: string; turn: DetailTurn }) {
  const [draft, setDraft] = useState<string | null>(null);
  const edit = useEditTurn(conversation);
  const edits = turn.edits ?? [];
  const last = edits.at(-1);
  const save = () => {
    if (draft === null) return;
    if (draft.trim() === '' || draft === turn.content) return setDraft(null);
    edit.mutate({ turn: turn.turn, content: draft, expected: turn.content }, { onSuccess: () => setDraft(null) });
  };
  return (
    <div className={`turn ${turn.role}`} data-testid="turn" data-turn={turn.turn}>
      <div className="role" style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
        <span>{turn.role}</span>
        {last && (
          <span className="edited" data-testid="turn-edited" title={`edited ${edits.length} time${edits.length > 1 ? 's' : ''}`}>
            edited by {last.editor ?? 'the admin key'} · {when(last.at)}
          </span>
        )}
        {draft === null && (
          <button className="link" style={{ marginLeft: 'auto' }} onClick={() => setDraft(turn.content)} data-testid="turn-edit" aria-label={`edit turn ${turn.turn + 1}`}>
            Edit
          </button>
        )}
      </div>
      {draft === null ? (
        turn.content
      ) : (
        <div>
          <textarea
            value={draft}
            maxLength={TURN_MAX_CHARS}
            rows={Math.min(12, Math.max(3, Math.ceil(draft.length / 70)))}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setDraft(null);
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) save();
            }}
            aria-label={`text of turn ${turn.turn + 1}`}
            data-testid="turn-text"
            autoFocus
            style={{ width: '100%', boxSizing: 'border-box' }}
          />
          <div style={{ display: 'flex', gap: 8, alignItems: 'center', marginTop: 6 }}>
            <span className="muted" style={{ fontSize: 12 }} data-testid="turn-count">
              {draft.length.toLocaleString()} / {TURN_MAX_CHARS.toLocaleString()} characters
            </span>
            <button style={{ marginLeft: 'auto' }} onClick={() => setDraft(null)}>
              Cancel
            </button>
            <button className="primary" onClick={save} disabled={edit.isPending || draft.trim() === ''} data-testid="turn-save">
              Save
            </button>
          </div>
        </div>
      )}
      {edits.length > 0 && (
        <details className="turn-history" data-testid="turn-history">
          <summary>
            {edits.length} earlier version{edits.length > 1 ? 's' : ''}
          </summary>
          <ol>
            {edits
              .map((e, i) => (
                <li key={i} data-testid="turn-version">
                  <div className="muted" style={{ fontSize: 11 }}>
                    replaced by {e.editor ?? 'the admin key'} · {when(e.at)}
                  </div>
                  {e.before}
                </li>
              ))
              .reverse()}
          </ol>
        </details>
      )}
    </div>
  );
}

export function ConversationView({ detail }: { detail: Detail }) {
  return (
    <>
      <h2 style={{ margin: '4px 0 6px', fontSize: 18 }} data-testid="detail-title">
        {detail.title}
      </h2>
      <div className="muted" style={{ marginBottom: 8 }}>
        <StatusBadge status={detail.status} /> · {detail.persona} · {detail.emotion} · {detail.tier.replace('_', ' ')} · quality {detail.quality_score.toFixed(1)} ·{' '}
        {detail.total_tokens} tokens · {detail.template_name ?? 'no template'}
        {detail.scenario_name ? ` · ${detail.scenario_name}` : ''} · written by <GeneratorBadge generator={detail.generator} model={detail.parameters.model} />
      </div>
      <div className="muted" style={{ fontSize: 12 }}>
        {detail.category.join(', ')} · {JSON.stringify(detail.parameters)}
      </div>
      {detail.turns.map((t) => (
        <TurnView key={t.turn} conversation={detail.id} turn={t} />
      ))}
      {detail.review_history.length > 0 && (
        <>
          <h3 style={{ fontSize: 14 }}>Review history</h3>
          <ul className="muted" style={{ fontSize: 12 }}>
            {detail.review_history.map((h, i) => (
              <li key={i} data-testid="review-entry">
                {h.at?.slice(0, 19).replace('T', ' ')} {h.reviewer ?? 'someone'}: {h.from} → {h.to}
                {h.note ? ` (${h.note})` : ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

export function DetailSkeleton() {
  return (
    <div>
      <div className="skeleton" style={{ height: 22, width: '80%', margin: '6px 0 12px' }} />
      {Array.from({ length: 5 }, (_, i) => (
        <div key={i} className="turn" style={{ height: 64 }}>
          <span className="skeleton" />
        </div>
      ))}
    </div>
  );
}

export default function Drawer({ id, onClose }: { id: string; onClose: () => void }) {
  const { data } = useQuery(detailQuery(id));
  const setStatus = useSetStatus();
  return (
    <aside className="drawer" role="dialog" aria-label="conversation" data-testid="drawer">
      <div style={{ display: 'flex', gap: 8, justifyContent: 'flex-end' }}>
        <button disabled={!data} onClick={() => data && setStatus.mutate({ id, status: 'approved' })}>
          Approve
        </button>
        <button disabled={!data} onClick={() => data && setStatus.mutate({ id, status: 'rejected' })}>
          Reject
        </button>
        <button disabled={!data} onClick={() => data && setStatus.mutate({ id, status: 'needs_revision' })}>
          Needs revision
        </button>
        <button onClick={onClose} aria-label="close">
          ✕
        </button>
      </div>
      {data ? <ConversationView detail={data} /> : <DetailSkeleton />}
    </aside>
  );
}
