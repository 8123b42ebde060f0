/**
 * @module bench/studio/auth
 * The studio API is closed (a curator or the admin): the benchmark's server runs with this
 * loopback-only admin key, the load generator sends it as a bearer, and the browser gets a token
 * exchanged for it once, put in sessionStorage before the page loads, so a "cold load" measures
 * the studio and not the sign-in page.
 */
export const BENCH_API_KEY = 'studio-bench-admin-key-loopback-only-0123456789';
export const BENCH_AUTH_HEADER = { authorization: `Bearer ${BENCH_API_KEY}` } as const;

/** A token for the browser, exchanged for the admin key as the /signin page does. */
export async function browserToken(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/auth/token`, { method: 'POST', headers: BENCH_AUTH_HEADER });
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!res.ok || !body.token) throw new Error(`could not get a browser token: ${res.status} ${body.error?.message ?? ''}`);
  return body.token;
}
