/**
 * @module web/studio/queries
 * The query options of the browse route's three reads (the list's first pages, the count, the
 * stats cards), one factory each, used by the components that read them and by the entry's
 * prefetch alike: the same key, fetcher and freshness wherever they are asked for, so a prefetch
 * is the very query the component then reads.
 */
import { infiniteQueryOptions, queryOptions, type QueryClient } from '@tanstack/react-query';
import { fetchCount, fetchPage, fetchStats, keys, type Filters } from './api.js';

export const conversationPagesQuery = (filters: Filters) =>
  infiniteQueryOptions({
    queryKey: keys.list(filters),
    queryFn: ({ pageParam, signal }) => fetchPage(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export const countQuery = (filters: Filters) => queryOptions({ queryKey: keys.count(filters), queryFn: ({ signal }) => fetchCount(filters, signal) });

export const statsQuery = queryOptions({ queryKey: keys.stats, queryFn: fetchStats, staleTime: 10_000 });

/**
 * Starts the browse route's reads at once, while its code chunk is still loading: otherwise they
 * wait for the chunk to arrive, run and render (a waterfall of several hundred ms on a busy
 * machine, which the largest paint and the first rows waited for). Rendered, the route finds them
 * in flight and waits for the same requests.
 */
export function prefetchBrowse(client: QueryClient, filters: Filters): void {
  void client.prefetchInfiniteQuery(conversationPagesQuery(filters));
  void client.prefetchQuery(countQuery(filters));
  void client.prefetchQuery(statsQuery);
}
