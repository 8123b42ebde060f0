/**
 * @module web/studio/mutations
 * Status changes, applied to every cached copy at once (optimistic) and rolled back with a
 * toast when the server refuses; turn corrections, applied once the server has kept the old text.
 */
import { useMutation, useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { api, keys, type Detail, type DetailTurn, type Page, type Status } from './api.js';
import { useToast } from './toast.js';

type Snapshot = [readonly unknown[], unknown][];

function applyStatus(qc: QueryClient, ids: Set<string>, status: Status): Snapshot {
  const snapshot: Snapshot = [];
  for (const [key, data] of qc.getQueriesData<InfiniteData<Page>>({ queryKey: keys.lists })) {
    snapshot.push([key, data]);
    if (!data) continue;
    qc.setQueryData<InfiniteData<Page>>(key, {
      ...data,
      pages: data.pages.map((p) => ({ ...p, items: p.items.map((r) => (ids.has(r.id) ? { ...r, status } : r)) })),
    });
  }
  for (const id of ids) {
    const key = keys.detail(id);
    const detail = qc.getQueryData<Detail>(key);
    snapshot.push([key, detail]);
    if (detail) qc.setQueryData<Detail>(key, { ...detail, status });
  }
  return snapshot;
}

function restore(qc: QueryClient, snapshot: Snapshot | undefined): void {
  for (const [key, data] of snapshot ?? []) qc.setQueryData(key, data);
}

export function useSetStatus() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    // The server records the signed-in user as the reviewer.
    mutationFn: (v: { id: string; status: Status; expected?: Status; note?: string }) =>
      api<{ status: Status }>(`/conversations/${v.id}`, { method: 'PATCH', body: JSON.stringify({ status: v.status, expected: v.expected, note: v.note }) }),
    onMutate: async (v) => {
      await qc.cancelQueries({ queryKey: keys.detail(v.id) });
      return applyStatus(qc, new Set([v.id]), v.status);
    },
    onError: (err, v, snapshot) => {
      restore(qc, snapshot);
      toast(`Could not set ${v.status.replace('_', ' ')}: ${(err as Error).message}`);
    },
    onSettled: (_d, _e, v) => {
      void qc.invalidateQueries({ queryKey: keys.stats });
      void qc.invalidateQueries({ queryKey: keys.detail(v.id) });
    },
  });
}

export function useBulkStatus() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (v: { ids: string[]; status: Status }) => api<{ updated: number }>('/conversations/bulk', { method: 'POST', body: JSON.stringify({ ids: v.ids, status: v.status }) }),
    onMutate: (v) => applyStatus(qc, new Set(v.ids), v.status),
    onError: (err, _v, snapshot) => {
      restore(qc, snapshot);
      toast(`Bulk change refused: ${(err as Error).message}`);
    },
    onSuccess: (r) => toast(`${r.updated} conversations updated`, 'info'),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.stats });
      void qc.invalidateQueries({ queryKey: ['conversations', 'count'] });
    },
  });
}

/** Corrects one turn; `expected` is the text the curator saw (a 409 if someone changed it meanwhile). */
export function useEditTurn(id: string) {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (v: { turn: number; content: string; expected: string }) =>
      api<DetailTurn>(`/conversations/${id}/turns/${v.turn}`, { method: 'PATCH', body: JSON.stringify({ content: v.content, expected: v.expected }) }),
    onSuccess: (turn) => {
      const detail = qc.getQueryData<Detail>(keys.detail(id));
      if (detail) qc.setQueryData<Detail>(keys.detail(id), { ...detail, turns: detail.turns.map((t) => (t.turn === turn.turn ? turn : t)) });
      toast('Turn saved; the earlier text is in its history', 'info');
    },
    onError: (err) => toast(`Could not save the turn: ${(err as Error).message}`),
    onSettled: () => {
      // Token totals changed: the detail's and the list's.
      void qc.invalidateQueries({ queryKey: keys.detail(id) });
      void qc.invalidateQueries({ queryKey: keys.lists });
    },
  });
}
