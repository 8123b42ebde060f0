/**
 * @module web/studio/ExportDialog
 * Export the current filter (approved only by default) in the trainer's format. The file is
 * streamed by the server; the browser downloads it directly. Loaded only when opened.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { API, fetchCount, filterParams, keys, type Filters } from './api.js';
import { withAccessToken } from '../shared/auth.js';

const FORMATS = [
  ['openai', 'OpenAI chat fine-tuning (messages)'],
  ['sharegpt', 'ShareGPT (conversations, human/gpt)'],
  ['alpaca', 'Alpaca (instruction, input, output)'],
] as const;

export default function ExportDialog({ filters, onClose }: { filters: Filters; onClose: () => void }) {
  const [format, setFormat] = useState<string>('openai');
  const [approvedOnly, setApprovedOnly] = useState(true);
  const effective = approvedOnly ? { ...filters, status: 'approved' } : filters;
  const count = useQuery({ queryKey: keys.count(effective), queryFn: ({ signal }) => fetchCount(effective, signal) });
  const params = filterParams(effective);
  params.set('format', format);
  return (
    <div className="modal-bg" onClick={onClose}>
      <div className="modal" role="dialog" aria-label="export" onClick={(e) => e.stopPropagation()}>
        <h2 style={{ marginTop: 0, fontSize: 17 }}>Export for fine-tuning</h2>
        <label>Format</label>
        <select value={format} onChange={(e) => setFormat(e.target.value)} style={{ width: '100%' }}>
          {FORMATS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
        <label style={{ color: 'inherit' }}>
          <input type="checkbox" checked={approvedOnly} onChange={(e) => setApprovedOnly(e.target.checked)} /> approved conversations only
        </label>
        <p className="muted" data-testid="export-count">
          {count.data ? `${count.data.exact ? '' : '≈ '}${count.data.count.toLocaleString()} conversations with the current filters` : 'counting…'}
        </p>
        <div style={{ display: 'flex', gap: 8, justifyContent: 'flex-end' }}>
          <button onClick={onClose}>Close</button>
          <a className="primary" href={withAccessToken(`${API}/export?${params}`)} download style={{ background: 'var(--accent)', color: '#fff', padding: '5px 12px', borderRadius: 6, textDecoration: 'none' }}>
            Download JSONL
          </a>
        </div>
      </div>
    </div>
  );
}
