/**
 * @module web/studio/Browse
 * The browse route: stats cards, the filter bar (search debounced), the sortable virtual table
 * with keyboard review and bulk selection, the detail drawer and the on-demand dialogs.
 */
import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { CATEGORIES, EMPTY_FILTERS, GENERATORS, STATUSES, TIERS, fetchCount, fetchStats, generatorLabel, keys, type Filters, type Row, type SortColumn } from './api.js';
import { ApiError } from '../shared/api-error.js';
import { StatusBadge, VirtualList, useConversationPages, usePrefetchDetail } from './list.js';
import { useBulkStatus, useSetStatus } from './mutations.js';

const Drawer = lazy(() => import('./Drawer.js'));
const GenerateDialog = lazy(() => import('./GenerateDialog.js'));
const ExportDialog = lazy(() => import('./ExportDialog.js'));

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function StatsCards() {
  const { data } = useQuery({ queryKey: keys.stats, queryFn: fetchStats, staleTime: 10_000 });
  const cards: [string, string | undefined][] = [
    ['Conversations', data?.total.toLocaleString()],
    ['Pending review', data?.byStatus.pending_review?.toLocaleString() ?? (data ? '0' : undefined)],
    ['Approved', data?.byStatus.approved?.toLocaleString() ?? (data ? '0' : undefined)],
    ['Rejected', data?.byStatus.rejected?.toLocaleString() ?? (data ? '0' : undefined)],
    ['Needs revision', data?.byStatus.needs_revision?.toLocaleString() ?? (data ? '0' : undefined)],
    ['Avg quality', data?.avgQuality.toFixed(2)],
  ];
  return (
    <section className="cards" aria-label="statistics">
      {cards.map(([k, v]) => (
        <div className="card" key={k}>
          <div className="k">{k}</div>
          <div className="v">{v ?? <span className="skeleton" style={{ width: 80, height: 18 }} />}</div>
        </div>
      ))}
    </section>
  );
}

const COLUMNS: { label: string; sort?: SortColumn }[] = [
  { label: '' },
  { label: 'Title', sort: 'title' },
  { label: 'Persona' },
  { label: 'Emotion' },
  { label: 'Status' },
  { label: 'By · template' },
  { label: 'Quality', sort: 'quality_score' },
  { label: 'Tokens', sort: 'total_tokens' },
  { label: 'Created', sort: 'created_at' },
];

/** The server refuses longer searches (400); the field stops here and says so. */
const SEARCH_MAX_CHARS = 200;

const isFiltered = (f: Filters) => Boolean(f.status || f.tier || f.category || f.qualityMin || f.q || f.generator);

/** An API error as a sentence a curator can act on, e.g. "the search is too long (at most 200 characters)". */
function readableError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'bad_request' && /q\b.*(200|longer|more than)/i.test(err.message)) return `the search is too long (at most ${SEARCH_MAX_CHARS} characters)`;
    if (err.status === 429) return 'too many requests; wait a moment and try again';
    return `${err.message} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

export default function Browse(props: { filters: Filters; setFilters: (f: Filters) => void; scroll: Map<string, number> }) {
  const { filters, setFilters } = props;
  const [search, setSearch] = useState(filters.q);
  const q = useDebounced(search, 250);
  useEffect(() => {
    if (q !== filters.q) setFilters({ ...filters, q, sort: q ? '' : filters.sort === 'relevance' ? '' : filters.sort, order: q ? '' : filters.order });
  }, [q, filters, setFilters]);

  const list = useConversationPages(filters);
  const count = useQuery({ queryKey: keys.count(filters), queryFn: ({ signal }) => fetchCount(filters, signal), placeholderData: (p) => p });
  const prefetch = usePrefetchDetail();
  const setStatus = useSetStatus();
  const bulk = useBulkStatus();
  const [focused, setFocused] = useState(-1);
  const [open, setOpen] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<'generate' | 'export' | null>(null);
  const listKey = keys.list(filters).join('|');

  useEffect(() => {
    setFocused(-1);
    setSelected(new Set());
  }, [listKey]);

  const rows = list.rows;
  const act = useCallback(
    (row: Row | undefined, status: 'approved' | 'rejected' | 'needs_revision') => {
      if (row && row.status !== status) setStatus.mutate({ id: row.id, status });
    },
    [setStatus],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === 'j') setFocused((i) => Math.min(rows.length - 1, i + 1));
      else if (e.key === 'k') setFocused((i) => Math.max(0, i - 1));
      else if (e.key === 'a') act(rows[focused], 'approved');
      else if (e.key === 'r') act(rows[focused], 'rejected');
      else if (e.key === 'x' && rows[focused]) toggle(rows[focused].id);
      else if (e.key === 'Enter' && rows[focused]) setOpen(rows[focused].id);
      else if (e.key === 'Escape') setOpen(null);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  // The server's defaults when the filters leave sort or order unset.
  const activeSort = filters.sort || (filters.q ? 'relevance' : 'created_at');
  const activeOrder = filters.order || (activeSort === 'title' ? 'asc' : 'desc');
  const sortBy = (column: SortColumn) => {
    const order = activeSort === column ? (activeOrder === 'desc' ? 'asc' : 'desc') : column === 'title' ? 'asc' : 'desc';
    setFilters({ ...filters, sort: column, order });
  };

  const header = useMemo(
    () => (
      <div className="thead" role="row">
        <input
          type="checkbox"
          aria-label="select all loaded rows"
          checked={rows.length > 0 && selected.size === rows.length}
          onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
        />
        {COLUMNS.slice(1).map((c) =>
          c.sort ? (
            <button key={c.label} data-sort={c.sort} aria-sort={activeSort === c.sort ? (activeOrder === 'asc' ? 'ascending' : 'descending') : 'none'} onClick={() => sortBy(c.sort!)}>
              {c.label}
            </button>
          ) : (
            <span key={c.label}>{c.label}</span>
          ),
        )}
      </div>
    ),
    [rows, selected, activeSort, activeOrder, filters],
  );

  const set = (patch: Partial<Filters>) => setFilters({ ...filters, ...patch });
  return (
    <>
      <StatsCards />
      <section className="filters" aria-label="filters">
        <input type="search" placeholder={`Search title, persona, emotion… (up to ${SEARCH_MAX_CHARS} characters)`} maxLength={SEARCH_MAX_CHARS} value={search} onChange={(e) => setSearch(e.target.value)} aria-label="search" />
        {search.length > SEARCH_MAX_CHARS * 0.9 && <span className="muted" data-testid="search-count">{search.length} / {SEARCH_MAX_CHARS}</span>}
        <select aria-label="status" value={filters.status} onChange={(e) => set({ status: e.target.value })}>
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
        <select aria-label="tier" value={filters.tier} onChange={(e) => set({ tier: e.target.value })}>
          <option value="">any tier</option>
          {TIERS.map((t) => (
            <option key={t} value={t}>
              {t.replace('_', ' ')}
            </option>
          ))}
        </select>
        <select aria-label="category" value={filters.category} onChange={(e) => set({ category: e.target.value })}>
          <option value="">any category</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {c.replace('_', ' ')}
            </option>
          ))}
        </select>
        <select aria-label="minimum quality" value={filters.qualityMin} onChange={(e) => set({ qualityMin: e.target.value })}>
          <option value="">any quality</option>
          {[5, 6, 7, 8, 9].map((n) => (
            <option key={n} value={n}>
              quality ≥ {n}
            </option>
          ))}
        </select>
        <select aria-label="generator" value={filters.generator} onChange={(e) => set({ generator: e.target.value })}>
          <option value="">any generator</option>
          {GENERATORS.map((g) => (
            <option key={g} value={g}>
              {generatorLabel(g).label}
            </option>
          ))}
        </select>
        <span className="muted" data-testid="count" style={{ minWidth: 110 }}>
          {count.data ? `${count.data.exact ? '' : '≈ '}${count.data.count.toLocaleString()} matching` : '…'}
        </span>
        <span style={{ flex: 1 }} />
        <button onClick={() => setDialog('generate')}>Generate…</button>
        <button onClick={() => setDialog('export')}>Export…</button>
      </section>
      <section className="bulk" aria-label="bulk actions">
        {selected.size ? (
          <>
            <span data-testid="selected-count">{selected.size} selected</span>
            <button onClick={() => bulk.mutate({ ids: [...selected], status: 'approved' })}>Approve</button>
            <button onClick={() => bulk.mutate({ ids: [...selected], status: 'rejected' })}>Reject</button>
            <button onClick={() => bulk.mutate({ ids: [...selected], status: 'needs_revision' })}>Needs revision</button>
            <button onClick={() => setSelected(new Set())}>Clear</button>
          </>
        ) : (
          <span>Select rows (click the box or press x) to act on many at once.</span>
        )}
      </section>
      {(list.error ?? count.error) && (
        <div className="aw-error" role="alert" data-testid="list-error" style={{ margin: '0 16px 8px' }}>
          Could not load conversations: {readableError(list.error ?? count.error)}
        </div>
      )}
      {!list.isPending && !list.error && rows.length === 0 && (
        <div className="aw-notice" data-testid="empty-hint" style={{ margin: '0 16px 8px' }}>
          {isFiltered(filters) ? (
            <>
              Nothing matches these filters. <button onClick={() => setFilters({ ...EMPTY_FILTERS })}>Clear filters</button>
            </>
          ) : (
            <>
              No conversations yet. Press <b>Generate…</b> to create some (the built-in offline generator, or the model at LLM_BASE_URL), or seed many at once with{' '}
              <code>npm run studio:seed -- --count 10000</code>.
            </>
          )}
        </div>
      )}
      <VirtualList
        listKey={listKey}
        rows={rows}
        loading={list.isPending}
        hasNextPage={list.hasNextPage}
        isFetchingNextPage={list.isFetchingNextPage}
        fetchNextPage={list.fetchNextPage}
        focused={focused}
        scroll={props.scroll}
        header={header}
        testId="conversation-table"
        renderRow={(row, index) => (
          <div
            className={`tr${index === focused ? ' focused' : ''}${selected.has(row.id) ? ' selected' : ''}`}
            role="row"
            data-id={row.id}
            data-status={row.status}
            data-index={index}
            onMouseEnter={() => void prefetch(row.id)}
            onClick={() => {
              setFocused(index);
              setOpen(row.id);
            }}
            style={{ top: 0, position: 'relative' }}
          >
            <input type="checkbox" aria-label="select" checked={selected.has(row.id)} onClick={(e) => e.stopPropagation()} onChange={() => toggle(row.id)} />
            <span title={row.title} data-col="title">
              {row.title}
            </span>
            <span>{row.persona}</span>
            <span>{row.emotion}</span>
            <span data-col="status">
              <StatusBadge status={row.status} />
            </span>
            <span className="muted" data-col="template" title={`${row.template_name ?? 'no template'}, ${generatorLabel(row.generator).title}`}>
              <span data-testid="row-generator">{row.generator === 'openai-compatible' ? 'LLM' : row.generator === 'offline' ? 'offline' : row.generator}</span> · {row.template_name}
            </span>
            <span data-col="quality">{row.quality_score.toFixed(1)}</span>
            <span>{row.total_tokens}</span>
            <span className="muted" data-col="created">
              {row.created_at.slice(0, 16).replace('T', ' ')}
            </span>
          </div>
        )}
      />
      <Suspense fallback={null}>
        {open && <Drawer id={open} onClose={() => setOpen(null)} />}
        {dialog === 'generate' && <GenerateDialog onClose={() => setDialog(null)} />}
        {dialog === 'export' && <ExportDialog filters={filters} onClose={() => setDialog(null)} />}
      </Suspense>
    </>
  );
}
