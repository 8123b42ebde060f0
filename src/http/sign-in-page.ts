/**
 * @module http/sign-in-page
 * The sign-in step every browser UI shares: paste the admin API key (or open the link printed
 * at first start, `/signin#key=…`; a fragment never reaches the server or its logs), or pick a
 * demo identity in demo mode. The token lands in sessionStorage under `airwaves.token`, where
 * web/shared/auth.ts reads it. The script is a file of its own: the CSP allows no inline script.
 */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function signInPage(opts: { demo: boolean; demoRoles: readonly string[] }): string {
  const demo = opts.demo
    ? `<section><h2>Demo mode</h2><p>Sign in as a demo identity (AIRWAVES_DEMO=true):</p>${opts.demoRoles.map((r) => `<button type="button" data-demo-role="${escape(r)}">${escape(r)}</button>`).join(' ')}<p class="hint">The help desk has its own demo people on its page.</p></section>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Airwaves</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#0f1420;color:#e8ecf4}
main{max-width:520px;margin:0 auto;padding:40px 20px}section{background:#182034;border-radius:10px;padding:16px 18px;margin:16px 0}
input{width:100%;box-sizing:border-box;padding:8px;border-radius:6px;border:1px solid #26304a;background:#0f1420;color:inherit}
button{margin-top:10px;padding:6px 14px;border-radius:6px;border:0;background:#5b8cff;color:#fff;cursor:pointer}
.hint{color:#9aa6bf;font-size:13px}#error{color:#ff8f8f}
</style></head>
<body><main>
<h1>Sign in</h1>
<p id="error" role="alert"></p>
<section><h2>Admin</h2>
<form id="key-form"><label for="key">Admin API key</label><input id="key" name="key" type="password" autocomplete="off" required>
<button type="submit">Sign in</button></form>
<p class="hint">The key is in <code>&lt;data dir&gt;/secrets.json</code> (printed once at first start) or in AIRWAVES_API_KEY.</p></section>
${demo}
</main><script src="/signin.js"></script></body></html>`;
}

export const SIGN_IN_SCRIPT = `// Airwaves sign-in: exchanges the admin key or a demo role for a token kept in sessionStorage.
(function () {
  var params = new URLSearchParams(location.search);
  var next = params.get('next') || '/';
  if (next.charAt(0) !== '/' || next.charAt(1) === '/' || next.charAt(1) === '\\\\') next = '/';
  var error = document.getElementById('error');
  function exchange(url, init) {
    return fetch(url, init).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + res.status));
        sessionStorage.setItem('airwaves.token', body.token);
        location.replace(next);
      });
    }).catch(function (err) { error.textContent = err.message; });
  }
  function withKey(key) { return exchange('/api/v1/auth/token', { method: 'POST', headers: { authorization: 'Bearer ' + key } }); }
  var fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromHash) { history.replaceState(null, '', location.pathname + location.search); withKey(fromHash); }
  document.getElementById('key-form').addEventListener('submit', function (e) { e.preventDefault(); withKey(document.getElementById('key').value.trim()); });
  document.querySelectorAll('[data-demo-role]').forEach(function (b) {
    b.addEventListener('click', function () {
      exchange('/api/v1/auth/demo-login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: b.getAttribute('data-demo-role') }) });
    });
  });
})();
`;
