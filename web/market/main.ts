// The market page: subscribes (through the Airwaves SDK) to each venue's book channel, the
// consolidated BBO, the cross-venue top, trades and health, and renders them live. Books are
// rebuilt client-side from a snapshot and deltas; a hole in `seq` or a non-recovered resubscribe
// waits for the next snapshot (published at least every 5 s) instead of showing a wrong book.
import { AirwavesClient, type Subscription } from '../../src/client/index.js';
import { hubUrl } from '../shared/hub-url.js';

type BookMsg = { t: 'snapshot' | 'delta'; seq: number; b: number[]; a: number[] };
const VENUES = ['binance', 'coinbase', 'kraken'] as const;
const $ = (id: string) => document.getElementById(id)!;

class SideLevels {
  readonly levels = new Map<number, number>();
  apply(flat: number[]): void {
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i + 1] === 0) this.levels.delete(flat[i]);
      else this.levels.set(flat[i], flat[i + 1]);
    }
  }
  top(n: number, desc: boolean): [number, number][] {
    return [...this.levels].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0])).slice(0, n);
  }
}

class ClientBook {
  bids = new SideLevels();
  asks = new SideLevels();
  seq = 0;
  valid = false;
  apply(m: BookMsg): void {
    if (m.t === 'snapshot') {
      this.bids = new SideLevels();
      this.asks = new SideLevels();
      this.valid = true;
    } else if (!this.valid || m.seq !== this.seq + 1) {
      this.valid = false; // wait for the next snapshot
      this.seq = m.seq;
      return;
    }
    this.seq = m.seq;
    this.bids.apply(m.b);
    this.asks.apply(m.a);
  }
}

const client = new AirwavesClient({ url: hubUrl() });
client.on('connected', () => ($('state').textContent = 'live'));
client.on('disconnected', () => ($('state').textContent = 'reconnecting…'));
let subs: Subscription[] = [];
let books = new Map<string, ClientBook>();
let dirty = true;

function rows(levels: [number, number][], cls: string): string {
  return levels.map(([p, q]) => `<tr><td class="${cls}">${p}</td><td>${q}</td></tr>`).join('');
}

function render(symbol: string): void {
  if (!dirty) return;
  dirty = false;
  $('books').innerHTML = VENUES.map((v) => {
    const b = books.get(v);
    const body = b && b.valid ? rows(b.asks.top(10, false).reverse(), 'ask') + '<tr><td colspan=2>&nbsp;</td></tr>' + rows(b.bids.top(10, true), 'bid') : '<tr><td>waiting for a snapshot…</td></tr>';
    return `<div class="card"><h2>${v} · ${symbol}</h2><table>${body}</table></div>`;
  }).join('');
}

async function show(symbol: string): Promise<void> {
  await Promise.all(subs.map((s) => s.unsubscribe().catch(() => {})));
  books = new Map(VENUES.map((v) => [v, new ClientBook()]));
  $('trades').innerHTML = '';
  subs = [
    ...VENUES.map((v) =>
      client.subscribe(`market:${symbol}@${v}.book`, {
        publication: (p) => {
          books.get(v)!.apply(p.data as BookMsg);
          dirty = true;
        },
        recovered: (r) => {
          if (!r.recovered) books.get(v)!.valid = false;
        },
      }),
    ),
    ...VENUES.map((v) =>
      client.subscribe(`market:${symbol}@${v}.trades`, {
        publication: (p) => {
          const t = p.data as { p: number; q: number; side: string };
          const div = document.createElement('div');
          div.className = t.side === 'buy' ? 'bid' : 'ask';
          div.textContent = `${new Date().toISOString().slice(11, 23)}  ${v.padEnd(9)} ${t.side.padEnd(4)} ${t.q} @ ${t.p}`;
          $('trades').prepend(div);
          while ($('trades').childElementCount > 30) $('trades').lastElementChild?.remove();
        },
      }),
    ),
    client.subscribe(`market:${symbol}@all.bbo`, {
      publication: (p) => {
        const c = p.data as { bp: number; bq: number; bv: string; ap: number; aq: number; av: string };
        $('cbbo').innerHTML = `<span class="bid">${c.bp} × ${c.bq} (${c.bv})</span> &nbsp; / &nbsp; <span class="ask">${c.ap} × ${c.aq} (${c.av})</span>`;
      },
    }),
    client.subscribe(`market:${symbol}@all.book`, {
      publication: (p) => {
        const t = p.data as { b: number[]; a: number[] };
        const pairs = (f: number[]) => Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]] as [number, number]);
        $('top').innerHTML = rows(pairs(t.a).reverse(), 'ask') + rows(pairs(t.b), 'bid');
      },
    }),
  ];
}

const health = new Map<string, string>();
const healthKey = (s: { venue: string; symbol: string | null }) => `${s.venue}${s.symbol ? ' ' + s.symbol : ''}`;
function renderHealth(): void {
  $('health').innerHTML = [...health].map(([k, v]) => `<span class="${v}">${k}: ${v}</span>`).join('');
}
client.subscribe('market:health', {
  publication: (p) => {
    const s = p.data as { venue: string; symbol: string | null; status: string };
    health.set(healthKey(s), s.status);
    renderHealth();
  },
});

const res = await fetch('/api/v1/market/symbols');
const { symbols } = (await res.json()) as { symbols: { symbol: string }[] };
const select = $('symbol') as HTMLSelectElement;
select.innerHTML = symbols.map((s) => `<option>${s.symbol}</option>`).join('');
select.onchange = () => void show(select.value);
await client.connect();
await show(select.value);
setInterval(() => render(select.value), 200);
// Health statuses published before this page opened: read them once over HTTP.
const h = (await (await fetch('/api/v1/market/health')).json()) as { statuses: { venue: string; symbol: string | null; status: string }[] };
for (const s of h.statuses) if (!health.has(healthKey(s))) health.set(healthKey(s), s.status);
renderHealth();
