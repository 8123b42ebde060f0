/**
 * @module http/landing-page
 * The page at "/": the apps with links and the node's live status (polled from /api/v1/status).
 */

/** What the landing page and status API show of an app (http does not know the app contract). */
export interface AppSummary {
  name: string;
  title: string;
  description: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function landingPage(apps: AppSummary[]): string {
  const cards = apps
    .map((a) => `<a class="card" href="/${escape(a.name)}/"><h2>${escape(a.title)}</h2><p>${escape(a.description)}</p></a>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Airwaves</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/theme.css">
<style>
main{max-width:960px;margin:0 auto;padding:32px 20px}
h1{margin:0 0 4px;font-size:28px}.sub{color:var(--muted);margin:0 0 24px}
.status{display:flex;gap:24px;flex-wrap:wrap;background:var(--panel);border-radius:10px;padding:14px 18px;margin-bottom:24px}
.status b{display:block;font-size:22px}.status span{color:var(--muted);font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px}
.card{display:block;background:var(--panel);border-radius:10px;padding:16px 18px;color:inherit;text-decoration:none;border:1px solid var(--line)}
.card:hover{border-color:var(--accent)}.card h2{margin:0 0 6px;font-size:18px}.card p{margin:0;color:var(--muted);font-size:14px}
footer{margin-top:28px;color:var(--muted);font-size:13px}
</style></head>
<body><main>
<h1>Airwaves</h1><p class="sub">Real-time broadcasting: one hub, many apps.</p>
<section class="status" aria-label="live status">
<div><b id="connections">–</b><span>connections</span></div>
<div><b id="rate">–</b><span>messages/s</span></div>
<div><b id="subscriptions">–</b><span>subscriptions</span></div>
<div><b id="engine">–</b><span>engine</span></div>
</section>
<section class="grid">${cards || '<p>No apps registered.</p>'}</section>
<footer><a href="/signin">Sign in</a> · Tools: <a href="/hub/">hub inspector</a> · API: <a href="/docs">/docs</a> · <a href="/openapi.json">/openapi.json</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></footer>
</main>
<script src="/landing.js"></script></body></html>`;
}

/** The status poller, a file of its own: the CSP allows no inline script. */
export const LANDING_SCRIPT = `async function tick(){try{const s=await (await fetch('/api/v1/status')).json();
for(const [id,v] of [['connections',s.connections],['rate',Math.round(s.publishRate)],['subscriptions',s.subscriptions],['engine',s.engine]])document.getElementById(id).textContent=String(v);}catch{}}
tick();setInterval(tick,2000);
`;
