/**
 * @module web/shared/auth
 * One sign-in for every browser UI: the token from /signin lives in sessionStorage
 * (`airwaves.token`, gone when the tab closes); `authFetch` adds it as a bearer and sends the
 * user to /signin (and back) when the server answers 401.
 */
export const TOKEN_KEY = 'airwaves.token';

export function authToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** The sign-in page, returning here afterwards. */
export function signInUrl(): string {
  return `/signin?next=${encodeURIComponent(location.pathname + location.search + location.hash)}`;
}

/** fetch with the signed-in token; a 401 leads to the sign-in page. */
export async function authFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const token = authToken();
  const headers = new Headers(init.headers);
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(input, { ...init, headers });
  if (res.status === 401) location.assign(signInUrl());
  return res;
}

/** A download link carrying the token (a link cannot send a header; the route must allow it). */
export function withAccessToken(url: string): string {
  const token = authToken();
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
}
