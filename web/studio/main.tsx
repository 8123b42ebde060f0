/**
 * @module web/studio/main
 * Entry of the studio UI: the query client, the toasts, and the two routes (browse, review),
 * each its own chunk. Filters and scroll positions live here, above the routes, so they survive
 * navigating between them.
 */
import { StrictMode, Suspense, lazy, useCallback, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { EMPTY_FILTERS, type Filters } from './api.js';
import { ToastProvider } from './toast.js';

const Browse = lazy(() => import('./Browse.js'));
const Review = lazy(() => import('./Review.js'));

const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 30_000, gcTime: 10 * 60_000, refetchOnWindowFocus: false, retry: 1 } },
});

function useRoute(): string {
  const [route, setRoute] = useState(() => location.hash.replace(/^#/, '') || '/');
  useEffect(() => {
    const onHash = () => setRoute(location.hash.replace(/^#/, '') || '/');
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

/** Filters, sort and search live in the query string: shareable, and they survive a reload. */
const FILTER_FIELDS = Object.keys(EMPTY_FILTERS) as (keyof Filters)[];

function filtersFromUrl(): Filters {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(FILTER_FIELDS.map((k) => [k, params.get(k) ?? ''])) as unknown as Filters;
}

function useUrlFilters(): [Filters, (f: Filters) => void] {
  const [filters, setState] = useState<Filters>(filtersFromUrl);
  const set = useCallback((f: Filters) => {
    setState(f);
    const params = new URLSearchParams();
    for (const k of FILTER_FIELDS) if (f[k]) params.set(k, f[k]);
    const query = params.toString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  }, []);
  return [filters, set];
}

/** Keeps the layout still while a route's chunk loads: same grid, placeholder rows. */
function RouteSkeleton() {
  return (
    <div className="table" style={{ padding: 12 }}>
      {Array.from({ length: 12 }, (_, i) => (
        <div key={i} style={{ height: 36 }}>
          <span className="skeleton" />
        </div>
      ))}
    </div>
  );
}

function App() {
  const route = useRoute();
  const [filters, setFilters] = useUrlFilters();
  const scroll = useRef(new Map<string, number>());
  return (
    <div className="app" style={route === '/review' ? { gridTemplateRows: '48px 1fr' } : undefined}>
      <header className="aw-header">
        <a className="aw-home" href="/" title="Airwaves: all apps">
          Airwaves
        </a>
        <h1>Conversation studio</h1>
        <nav>
          <a href="#/" className={route === '/' ? 'active' : ''}>
            Browse
          </a>
          <a href="#/review" className={route === '/review' ? 'active' : ''}>
            Review queue
          </a>
        </nav>
        <span className="spacer" />
        <span className="muted keys">
          <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>a</kbd> approve · <kbd>r</kbd> reject · <kbd>Enter</kbd> open
        </span>
      </header>
      <Suspense fallback={<RouteSkeleton />}>{route === '/review' ? <Review scroll={scroll.current} /> : <Browse filters={filters} setFilters={setFilters} scroll={scroll.current} />}</Suspense>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <App />
      </ToastProvider>
    </QueryClientProvider>
  </StrictMode>,
);
