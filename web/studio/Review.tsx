/**
 * @module web/studio/Review
 * The review queue: pending conversations oldest first, the current one in full, and a bar of
 * buttons that the keyboard mirrors (j/k move, a approve, r reject, n needs revision, s skip,
 * u undo the last decision), "x of N", and a note that goes with the next decision. Who decided
 * is the signed-in user (the server takes it from the token). The next conversation's detail is
 * prefetched so moving on is instant.
 */
import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { EMPTY_FILTERS, fetchCount, keys, type Filters, type Status } from './api.js';
import { ConversationView, DetailSkeleton } from './Drawer.js';
import { StatusBadge, VirtualList, detailQuery, useConversationPages, usePrefetchDetail } from './list.js';
import { useSetStatus } from './mutations.js';

const QUEUE: Filters = { ...EMPTY_FILTERS, status: 'pending_review', sort: 'created_at', order: 'asc' };
const DECISIONS: { status: Status; label: string; key: string }[] = [
  { status: 'approved', label: 'Approve', key: 'a' },
  { status: 'rejected', label: 'Reject', key: 'r' },
  { status: 'needs_revision', label: 'Needs revision', key: 'n' },
];

interface Decision {
  id: string;
  index: number;
  from: Status;
  to: Status;
}

export default function Review({ scroll }: { scroll: Map<string, number> }) {
  const list = useConversationPages(QUEUE);
  const rows = list.rows;
  const [index, setIndex] = useState(0);
  const current = rows[index];
  const prefetch = usePrefetchDetail();
  const setStatus = useSetStatus();
  const detail = useQuery({ ...detailQuery(current?.id ?? ''), enabled: !!current });
  // N: what was waiting when the queue opened (the count endpoint), at least what is loaded.
  const count = useQuery({ queryKey: keys.count(QUEUE), queryFn: ({ signal }) => fetchCount(QUEUE, signal), staleTime: Infinity });
  const total = Math.max(count.data?.count ?? 0, rows.length);
  const [note, setNote] = useState('');
  const [last, setLast] = useState<Decision | null>(null);
  const noteRef = useRef<HTMLInputElement>(null);

  const decide = (status: Status) => {
    if (!current) return;
    if (current.status !== status) {
      setStatus.mutate({ id: current.id, status, expected: current.status, note: note.trim() || undefined });
      setLast({ id: current.id, index, from: current.status, to: status });
    }
    setNote('');
    setIndex((i) => Math.min(rows.length - 1, i + 1));
  };
  const skip = () => setIndex((i) => Math.min(rows.length - 1, i + 1));
  const undo = () => {
    if (!last) return;
    setStatus.mutate({ id: last.id, status: last.from, expected: last.to, note: 'undo' });
    setIndex(last.index);
    setLast(null);
  };

  useEffect(() => {
    for (const r of rows.slice(index + 1, index + 3)) void prefetch(r.id);
  }, [index, rows, prefetch]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.metaKey || e.ctrlKey || e.altKey) return;
      const decision = DECISIONS.find((d) => d.key === e.key);
      if (e.key === 'j' || e.key === 's') skip();
      else if (e.key === 'k') setIndex((i) => Math.max(0, i - 1));
      else if (decision) decide(decision.status);
      else if (e.key === 'u') undo();
      else if (e.key === 'm') noteRef.current?.focus();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <div className="review">
      <VirtualList
        className="queue"
        listKey="review-queue"
        rows={rows}
        loading={list.isPending}
        hasNextPage={list.hasNextPage}
        isFetchingNextPage={list.isFetchingNextPage}
        fetchNextPage={list.fetchNextPage}
        focused={index}
        scroll={scroll}
        testId="review-queue"
        renderRow={(row, i) => (
          <div
            className={`tr${i === index ? ' focused' : ''}`}
            style={{ position: 'relative', gridTemplateColumns: '1fr 120px' }}
            data-id={row.id}
            data-status={row.status}
            data-index={i}
            onMouseEnter={() => void prefetch(row.id)}
            onClick={() => setIndex(i)}
          >
            <span title={row.title}>{row.title}</span>
            <span data-col="status">
              <StatusBadge status={row.status} />
            </span>
          </div>
        )}
      />
      <section className="current" data-testid="review-current" data-id={current?.id}>
        <div className="review-bar" data-testid="review-bar">
          <span className="muted" data-testid="review-progress">
            {current ? `${index + 1} of ${total.toLocaleString()}${list.hasNextPage && !count.data ? '+' : ''}` : `0 of ${total.toLocaleString()}`}
          </span>
          {DECISIONS.map((d) => (
            <button key={d.status} type="button" data-decision={d.status} disabled={!current} title={`${d.label} (${d.key})`} onClick={() => decide(d.status)}>
              {d.label}
            </button>
          ))}
          <button type="button" data-testid="review-skip" disabled={!current} title="Skip to the next one (s or j)" onClick={skip}>
            Skip
          </button>
          <button type="button" data-testid="review-undo" disabled={!last} title="Undo the last decision (u)" onClick={undo}>
            Undo
          </button>
          <input
            ref={noteRef}
            data-testid="review-note"
            aria-label="Note for the next decision"
            placeholder="Note for the next decision (m)"
            maxLength={500}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
            }}
          />
        </div>
        {!current && !list.isPending ? <p className="muted">Nothing is waiting for review.</p> : detail.data ? <ConversationView detail={detail.data} /> : <DetailSkeleton />}
      </section>
    </div>
  );
}
