/**
 * @module web/hub/admin-api
 * The inspector's calls to the HTTP API with the admin key: the channel directory
 * (GET /api/v1/admin/channels) and server-side publish (POST /api/v1/publish).
 */
import { ApiError } from '../shared/api-error.js';

export interface NamespaceInfo {
  name: string;
  subscribe: 'anonymous' | 'authenticated' | 'server';
  publish: 'anonymous' | 'authenticated' | 'server';
  historySize: number;
  presence: boolean;
  binary: boolean;
  channels: number;
  subscribers: number;
}

export interface ChannelInfo {
  channel: string;
  namespace: string;
  subscribers: number;
}

export interface Directory {
  node: string;
  totalChannels: number;
  namespaces: NamespaceInfo[];
  channels: ChannelInfo[];
}

async function call<T>(apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) {
    // The inspector shows the message as it is: a sentence, "401 unauthorized: missing or wrong API key".
    const code = json?.error?.code ?? 'http_error';
    throw new ApiError(res.status, code, json?.error ? `${res.status} ${code}: ${json.error.message}` : `${res.status} ${res.statusText}`);
  }
  return json as T;
}

export const fetchDirectory = (apiKey: string) => call<Directory>(apiKey, 'GET', '/api/v1/admin/channels');

export const publishAsServer = (apiKey: string, channel: string, data: unknown) => call<{ offset: number }>(apiKey, 'POST', '/api/v1/publish', { channel, data });
