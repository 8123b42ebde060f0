/**
 * @module web/studio/Review
 * The review queue: pending conversations oldest first, the current one in full, and the
 * keyboard doing the work (j/k move, a approve, r reject, n needs revision). The next
 * conversation's detail is prefetched so moving on is instant.
 */
import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { EMPTY_FILTERS, type Filters, type Status } from './api.js';
import { ConversationView, DetailSkeleton } from './Drawer.js';
import { StatusBadge, VirtualList, detailQuery, useConversationPages, usePrefetchDetail } from './list.js';
import { useSetStatus } from './mutations.js';

const QUEUE: Filters = { ...EMPTY_FILTERS, status: 'pending_review', sort: 'created_at', order: 'asc' };

export default function Review({ scroll }: { scroll: Map<string, number> }) {
  const list = useConversationPages(QUEUE);
  const rows = list.rows;
  const [index, setIndex] = useState(0);
  const current = rows[index];
  const prefetch = usePrefetchDetail();
  const setStatus = useSetStatus();
  const detail = useQuery({ ...detailQuery(current?.id ?? ''), enabled: !!current });

  useEffect(() => {
    for (const r of rows.slice(index + 1, index + 3)) void prefetch(r.id);
  }, [index, rows, prefetch]);

  useEffect(() => {
    const decide = (status: Status) => {
      if (!current) return;
      if (current.status !== status) setStatus.mutate({ id: current.id, status, expected: current.status });
      setIndex((i) => Math.min(rows.length - 1, i + 1));
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === 'j') setIndex((i) => Math.min(rows.length - 1, i + 1));
      else if (e.key === 'k') setIndex((i) => Math.max(0, i - 1));
      else if (e.key === 'a') decide('approved');
      else if (e.key === 'r') decide('rejected');
      else if (e.key === 'n') decide('needs_revision');
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
        {!current && !list.isPending ? <p className="muted">Nothing is waiting for review.</p> : detail.data ? <ConversationView detail={detail.data} /> : <DetailSkeleton />}
      </section>
    </div>
  );
}
