/**
 * @module web/studio/api
 * The studio API as the UI uses it: types, query keys, fetchers, and the filter → query string
 * mapping shared by the list, the count and the export link.
 */
import type { ConversationStatus } from '../../src/apps/studio/shared/vocabulary.js';
import { authFetch } from '../shared/auth.js';
import { ApiError } from '../shared/api-error.js';

export const API = '/api/v1/studio';
export { CATEGORIES, GENERATORS, TIERS } from '../../src/apps/studio/shared/vocabulary.js';

export type Status = ConversationStatus;
/** In the order a curator works through them (the review queue first), not the schema's. */
export const STATUSES: Status[] = ['pending_review', 'generated', 'approved', 'rejected', 'needs_revision', 'draft', 'failed'];
export type SortColumn = 'created_at' | 'updated_at' | 'quality_score' | 'title' | 'total_tokens' | 'relevance';

export interface Row {
  id: string;
  title: string;
  persona: string;
  emotion: string;
  tier: string;
  status: Status;
  category: string[];
  quality_score: number;
  total_tokens: number;
  turn_count: number;
  created_at: string;
  updated_at: string;
  template_name: string | null;
  scenario_name: string | null;
  /** What wrote the text: a job's generator (offline, openai-compatible) or seed. */
  generator?: string;
}

/** A turn's earlier text, with who replaced it and when. */
export interface TurnEdit {
  at: string;
  editor: string | null;
  before: string;
}

export interface DetailTurn {
  turn: number;
  role: 'system' | 'user' | 'assistant';
  content: string;
  edits: TurnEdit[];
}

export interface Detail extends Row {
  parameters: Record<string, unknown>;
  review_history: { at: string; from: string; to: string; reviewer: string | null; note: string | null }[];
  turns: DetailTurn[];
}

/** The server's limit on a turn's text (studio turn-edits TURN_MAX_CHARS). */
export const TURN_MAX_CHARS = 20_000;

/**
 * The generator as a curator should read it: offline text is template-written, not a model's.
 * `model` comes from the conversation's parameters when a language model wrote it.
 */
export function generatorLabel(generator: string | undefined, model?: unknown): { label: string; title: string } {
  if (generator === 'openai-compatible') return { label: `LLM${typeof model === 'string' ? ` · ${model}` : ''}`, title: 'written by a language model (LLM_BASE_URL)' };
  if (generator === 'offline') return { label: 'offline writer', title: 'written from the template by the built-in offline writer: no language model' };
  if (generator === 'seed') return { label: 'seed · offline writer', title: 'sample data from studio:seed, written by the built-in offline writer: no language model' };
  return { label: generator ?? 'unknown', title: 'generator' };
}

export interface Page {
  items: Row[];
  nextCursor: string | null;
}

export interface Filters {
  status: string;
  tier: string;
  category: string;
  qualityMin: string;
  q: string;
  /** What wrote the rows (seed, offline, openai-compatible). */
  generator: string;
  sort: SortColumn | '';
  order: 'asc' | 'desc' | '';
}

export const EMPTY_FILTERS: Filters = { status: '', tier: '', category: '', qualityMin: '', q: '', generator: '', sort: '', order: '' };

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await authFetch(API + path, init?.body ? { ...init, headers: { 'content-type': 'application/json', ...init.headers } } : init);
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = (body as { error?: { code: string; message: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

/** Filter parameters only (no sort): what the list, the count and the export agree on. */
export function filterParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.status) p.set('status', f.status);
  if (f.tier) p.set('tier', f.tier);
  if (f.category) p.set('category', f.category);
  if (f.qualityMin) p.set('quality_min', f.qualityMin);
  if (f.generator) p.set('generator', f.generator);
  if (f.q.trim()) p.set('q', f.q.trim());
  return p;
}

export const LIST_FIELDS = 'id,title,persona,emotion,tier,status,category,quality_score,total_tokens,turn_count,created_at,template_name,generator';
export const PAGE_SIZE = 100;

export function listParams(f: Filters): URLSearchParams {
  const p = filterParams(f);
  if (f.sort) p.set('sort', f.sort);
  if (f.order) p.set('order', f.order);
  p.set('limit', String(PAGE_SIZE));
  p.set('fields', LIST_FIELDS);
  return p;
}

export const keys = {
  list: (f: Filters) => ['conversations', 'list', listParams(f).toString()] as const,
  lists: ['conversations', 'list'] as const,
  count: (f: Filters) => ['conversations', 'count', filterParams(f).toString()] as const,
  detail: (id: string) => ['conversations', 'detail', id] as const,
  stats: ['stats'] as const,
};

export const fetchPage = (f: Filters, cursor: string | null, signal?: AbortSignal) => {
  const p = listParams(f);
  if (cursor) p.set('cursor', cursor);
  return api<Page>(`/conversations?${p}`, { signal });
};
export const fetchDetail = (id: string, signal?: AbortSignal) => api<Detail>(`/conversations/${id}`, { signal });
export const fetchCount = (f: Filters, signal?: AbortSignal) => api<{ count: number; exact: boolean }>(`/conversations/count?${filterParams(f)}`, { signal });
export const fetchStats = () => api<{ total: number; byStatus: Record<string, number>; byTier: Record<string, number>; avgQuality: number }>('/stats');
