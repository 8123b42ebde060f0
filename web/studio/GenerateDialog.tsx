/**
 * @module web/studio/GenerateDialog
 * Start a generation job from a template and scenarios, then watch its progress live; the job
 * can be cancelled from here. Loaded only when opened.
 */
import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys } from './api.js';
import { watchJob, type JobProgress } from './jobs.js';
import { useToast } from './toast.js';

interface Named {
  id: string;
  name: string;
}

export default function GenerateDialog({ onClose }: { onClose: () => void }) {
  const templates = useQuery({ queryKey: ['templates'], queryFn: () => api<{ items: Named[] }>('/templates') });
  const scenarios = useQuery({ queryKey: ['scenarios'], queryFn: () => api<{ items: Named[] }>('/scenarios') });
  const [template, setTemplate] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [count, setCount] = useState(100);
  const [job, setJob] = useState<{ id: string; channel: string } | null>(null);
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [error, setError] = useState('');
  const qc = useQueryClient();
  const toast = useToast();

  useEffect(() => {
    if (!template && templates.data?.items[0]) setTemplate(templates.data.items[0].id);
  }, [templates.data, template]);

  useEffect(() => {
    if (!job) return;
    return watchJob(job.channel, (p) => {
      setProgress(p);
      if (p.status === 'completed') toast(`Generated ${p.completed} conversations`, 'info');
      // A cancelled or failed job has written rows too: every ending refreshes the list, the counts and the stats.
      if (p.status === 'completed' || p.status === 'cancelled' || p.status === 'failed') {
        void qc.invalidateQueries({ queryKey: ['conversations'] });
        void qc.invalidateQueries({ queryKey: keys.stats });
      }
    });
  }, [job, qc, toast]);

  const start = async () => {
    setError('');
    try {
      const j = await api<{ id: string; channel: string }>('/jobs', { method: 'POST', body: JSON.stringify({ templateId: template, scenarioIds: chosen, count }) });
      setJob(j);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const cancel = async () => {
    if (job) await api(`/jobs/${job.id}/cancel`, { method: 'POST' }).catch((err: Error) => setError(err.message));
  };
  const pct = progress ? Math.round(((progress.completed + progress.failed) / progress.requested) * 100) : 0;
  return (
    <div className="modal-bg" onClick={onClose}>
      <div className="modal" role="dialog" aria-label="generate conversations" onClick={(e) => e.stopPropagation()}>
        <h2 style={{ marginTop: 0, fontSize: 17 }}>Generate conversations</h2>
        <label>Template</label>
        <select value={template} onChange={(e) => setTemplate(e.target.value)} disabled={!!job} style={{ width: '100%' }}>
          {templates.data?.items.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <label>Scenarios (none: the template alone)</label>
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 6 }}>
          {scenarios.data?.items.map((s) => (
            <label key={s.id} style={{ margin: 0, color: 'inherit', fontSize: 13 }}>
              <input type="checkbox" disabled={!!job} checked={chosen.includes(s.id)} onChange={(e) => setChosen((c) => (e.target.checked ? [...c, s.id] : c.filter((x) => x !== s.id)))} /> {s.name}
            </label>
          ))}
        </div>
        <label>How many</label>
        <input type="number" min={1} max={100000} value={count} disabled={!!job} onChange={(e) => setCount(Number(e.target.value))} />
        {job && (
          <div style={{ marginTop: 14 }}>
            <div className="progress" role="progressbar" aria-valuenow={pct}>
              <div style={{ width: `${pct}%` }} />
            </div>
            <div className="muted" data-testid="job-progress" style={{ marginTop: 6 }}>
              {progress ? `${progress.status}: ${progress.completed} of ${progress.requested}${progress.failed ? `, ${progress.failed} failed` : ''}` : 'queued…'}
            </div>
          </div>
        )}
        {error && <p style={{ color: 'var(--bad)' }}>{error}</p>}
        <div style={{ display: 'flex', gap: 8, justifyContent: 'flex-end', marginTop: 16 }}>
          {job && progress?.status === 'running' && <button onClick={cancel}>Cancel job</button>}
          <button onClick={onClose}>Close</button>
          {!job && (
            <button className="primary" disabled={!template || count < 1} onClick={start}>
              Start
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
