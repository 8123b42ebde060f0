/**
 * @module web/support/TicketHeader
 * A ticket's head: subject, status and assignee (agents change them), and the remote-session
 * controls for agents.
 */
import { api, MODE_LABEL, nameOf, STATUSES, type Names, type RemoteSession, type Ticket, type User } from './api.js';

export function TicketHeader(props: {
  token: string;
  ticket: Ticket;
  remote: RemoteSession | null;
  isAgent: boolean;
  agents: User[];
  names: Names;
  onBack: () => void;
  act: (fn: () => Promise<unknown>) => void;
  setTicket: (t: Ticket) => void;
  setRemote: (r: RemoteSession | null) => void;
}) {
  const { token, ticket, remote, isAgent, agents, names, onBack, act, setTicket, setRemote } = props;
  const path = `/tickets/${ticket.id}`;
  const startRemote = (controlMode: 'view_only' | 'full_control') => act(async () => setRemote((await api<{ session: RemoteSession }>(token, 'POST', `${path}/remote-sessions`, { controlMode })).session));
  return (
    <div className="ticket-head">
      <button className="back" onClick={onBack} aria-label="back to the ticket list">
        ← Tickets
      </button>
      <h2 data-testid="ticket-subject" className="aw-wrap">
        {ticket.subject}
      </h2>
      <span>
        Status: <span className={`badge ${ticket.status}`} data-testid="ticket-status">{ticket.status}</span>
      </span>
      {!isAgent && <span className="muted">{ticket.assigneeId ? `with ${nameOf(names, ticket.assigneeId, 'an agent')}` : 'waiting for an agent'}</span>}
      {isAgent && (
        <>
          <select aria-label="status" data-testid="status-select" value={ticket.status} onChange={(e) => act(async () => setTicket((await api<{ ticket: Ticket }>(token, 'PUT', `${path}/status`, { status: e.target.value })).ticket))}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <select aria-label="assignee" data-testid="assignee-select" value={ticket.assigneeId ?? ''} onChange={(e) => act(async () => setTicket((await api<{ ticket: Ticket }>(token, 'PUT', `${path}/assignee`, { assigneeId: e.target.value || null })).ticket))}>
            <option value="">unassigned</option>
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
          {remote ? (
            <>
              <span data-testid="remote-state">Remote session: {MODE_LABEL[remote.controlMode]}</span>
              <button
                data-testid="remote-toggle-mode"
                onClick={() => act(async () => setRemote((await api<{ session: RemoteSession }>(token, 'PUT', `${path}/remote-sessions/${remote.id}/control-mode`, { controlMode: remote.controlMode === 'view_only' ? 'full_control' : 'view_only' })).session))}
              >
                Switch to {remote.controlMode === 'view_only' ? 'full control' : 'view only'}
              </button>
              <button
                data-testid="remote-end"
                onClick={() =>
                  act(async () => {
                    await api(token, 'DELETE', `${path}/remote-sessions/${remote.id}`);
                    setRemote(null);
                  })
                }
              >
                End session
              </button>
            </>
          ) : (
            <>
              <button data-testid="remote-start-view" onClick={() => startRemote('view_only')}>
                Start remote (view only)
              </button>
              <button data-testid="remote-start-full" onClick={() => startRemote('full_control')}>
                Start remote (full control)
              </button>
            </>
          )}
        </>
      )}
    </div>
  );
}
