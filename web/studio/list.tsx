/**
 * @module web/studio/list
 * The infinite, virtualised conversation list shared by Browse and Review: cursor pages from
 * TanStack Query (one request per page however often the scroll asks), the next page fetched
 * before the last row is reached, only the visible rows in the DOM, and the scroll offset
 * remembered per list so coming back lands where the reviewer left.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, type ReactNode } from 'react';
import { queryOptions, useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { fetchDetail, fetchPage, keys, type Filters, type Row } from './api.js';

export const ROW_HEIGHT = 36;
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 60;

export function useConversationPages(filters: Filters) {
  const query = useInfiniteQuery({
    queryKey: keys.list(filters),
    queryFn: ({ pageParam, signal }) => fetchPage(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    // Keep the old rows on screen while a new filter loads: no flash of an empty table.
    placeholderData: (prev) => prev,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  return { ...query, rows };
}

/** One conversation's detail query: the same key, fetcher and freshness wherever it is read or prefetched. */
export const detailQuery = (id: string) => queryOptions({ queryKey: keys.detail(id), queryFn: ({ signal }) => fetchDetail(id, signal), staleTime: 60_000 });

export function usePrefetchDetail() {
  const qc = useQueryClient();
  return (id: string) => qc.prefetchQuery(detailQuery(id));
}

export function VirtualList(props: {
  listKey: string;
  rows: Row[];
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
  loading: boolean;
  focused: number;
  scroll: Map<string, number>;
  header?: ReactNode;
  renderRow: (row: Row, index: number) => ReactNode;
  className?: string;
  testId?: string;
}) {
  const { rows, hasNextPage, isFetchingNextPage, fetchNextPage, listKey, scroll } = props;
  const parent = useRef<HTMLDivElement>(null);
  const headerHeight = props.header ? 34 : 0;
  const virtualizer = useVirtualizer({
    count: props.loading ? 20 : rows.length + (hasNextPage ? 1 : 0),
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin: 0,
    paddingStart: headerHeight,
    initialOffset: () => scroll.get(listKey) ?? 0,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : 0;

  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= rows.length - PREFETCH_ROWS) void fetchNextPage();
  }, [lastIndex, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // A new filter starts at the top; the same list comes back where it was.
  const first = useRef(true);
  useLayoutEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    parent.current?.scrollTo({ top: scroll.get(listKey) ?? 0 });
  }, [listKey, scroll]);

  useEffect(() => {
    if (props.focused >= 0) virtualizer.scrollToIndex(props.focused, { align: 'auto' });
  }, [props.focused, virtualizer]);

  return (
    <div
      ref={parent}
      className={props.className ?? 'table'}
      data-testid={props.testId}
      onScroll={(e) => scroll.set(listKey, (e.target as HTMLDivElement).scrollTop)}
    >
      {props.header}
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {items.map((v) => {
          const row = rows[v.index];
          if (!row || props.loading) {
            const end = !props.loading && !hasNextPage && v.index >= rows.length;
            return (
              <div key={v.key} className={end ? 'end' : 'tr'} style={{ transform: `translateY(${v.start}px)`, top: 0 }}>
                {end ? 'end of list' : <span className="skeleton" style={{ gridColumn: '2 / span 3' }} />}
              </div>
            );
          }
          return (
            <div key={row.id} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}>
              {props.renderRow(row, v.index)}
            </div>
          );
        })}
      </div>
      {!props.loading && !hasNextPage && (
        <div className="muted" data-testid="end-of-list" style={{ padding: 10, textAlign: 'center' }}>
          {rows.length.toLocaleString()} rows · end of list
        </div>
      )}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge s-${status}`}>{status.replace('_', ' ')}</span>;
}
