/**
 * @module test/support/harness
 * Starts a real server hosting the help desk (PGlite in memory unless a database URL is given)
 * and gives tests a logged-in REST caller and a protocol client per demo user.
 */
import { startServer, RawClient, type Frame } from '../helpers/server.js';
import { createSupportApp, type SupportApp } from '../../src/apps/support/index.js';
import type { AirwavesConfig } from '../../src/config.js';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T & { error?: { code: string; message: string } };
}

export type Api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => Promise<ApiResponse<T>>;

export async function startDesk(config: Partial<AirwavesConfig> = {}) {
  const app: SupportApp = createSupportApp();
  const server = await startServer({ databaseUrl: 'pglite://memory', ...config }, { apps: [app] });
  const base = `${server.url}/api/v1/support`;

  async function call<T>(token: string | null, method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  async function login(userId: string): Promise<{ token: string; api: Api }> {
    const res = await call<{ token: string }>(null, 'POST', '/demo-login', { userId });
    if (res.status !== 200) throw new Error(`login ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
    const token = res.body.token;
    return { token, api: (method, path, body) => call(token, method, path, body) };
  }

  /** A protocol client connected with `token` (already past the connect handshake). */
  async function wsClient(token: string): Promise<RawClient> {
    const c = await RawClient.open(server.wsUrl);
    const reply = await c.request('connect', { token });
    if (reply.ok !== true) throw new Error(`connect failed: ${JSON.stringify(reply)}`);
    return c;
  }

  return { server, app, base, call, login, wsClient };
}

/** The StreamEvents a client received on `channel`, in order. */
export function eventsOn(client: RawClient, channel: string): { type: string; eventId: string; payload: Record<string, unknown>; metadata: Record<string, unknown> }[] {
  return client.publications(channel).map((f: Frame) => f.data as { type: string; eventId: string; payload: Record<string, unknown>; metadata: Record<string, unknown> });
}
