/**
 * @module web/studio/Drawer
 * One conversation in full (loaded on demand; usually already prefetched on hover).
 */
import { useQuery } from '@tanstack/react-query';
import type { Detail } from './api.js';
import { StatusBadge, detailQuery } from './list.js';
import { useSetStatus } from './mutations.js';

export function ConversationView({ detail }: { detail: Detail }) {
  return (
    <>
      <h2 style={{ margin: '4px 0 6px', fontSize: 18 }} data-testid="detail-title">
        {detail.title}
      </h2>
      <div className="muted" style={{ marginBottom: 8 }}>
        <StatusBadge status={detail.status} /> · {detail.persona} · {detail.emotion} · {detail.tier.replace('_', ' ')} · quality {detail.quality_score.toFixed(1)} ·{' '}
        {detail.total_tokens} tokens · {detail.template_name ?? 'no template'}
        {detail.scenario_name ? ` · ${detail.scenario_name}` : ''}
      </div>
      <div className="muted" style={{ fontSize: 12 }}>
        {detail.category.join(', ')} · {JSON.stringify(detail.parameters)}
      </div>
      {detail.turns.map((t) => (
        <div key={t.turn} className={`turn ${t.role}`}>
          <div className="role">{t.role}</div>
          {t.content}
        </div>
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
