/**
 * @module web/support
 * The help desk UI: an agent console (live ticket list, a ticket's chat with typing indicators,
 * status, assignment and remote-session controls) and a customer view (own tickets, chat,
 * personal remote-session notices). REST for everything stored, the hub (the SDK) for everything
 * live. The open ticket is in the URL (?ticket=<id>); below 720 px the list and the ticket take
 * turns on the screen.
 */
import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { DEMO_USERS } from '../../src/apps/support/shared/demo-users.js';
import { AppHeader } from '../shared/Header.js';
import { describeConnection, useChannel, useHubClient } from '../shared/use-hub.js';
import { actionKeys, api, MODE_LABEL, nameOf, type ControlMode, type Names, type Session, type StreamEvent, type Ticket, type User } from './api.js';
import { TicketView } from './TicketView.js';

const ticketFromUrl = () => new URLSearchParams(location.search).get('ticket');

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [error, setError] = useState('');
  const login = async (userId: string) => {
    try {
      const r = await api<{ token: string; user: User }>(null, 'POST', '/demo-login', { userId });
      onLogin({ token: r.token, user: r.user });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div className="login">
      <h2>Help desk — demo login</h2>
      {DEMO_USERS.map((u) => (
        <button key={u.id} data-testid={`login-${u.id}`} onClick={() => void login(u.id)}>
          {u.role === 'agent' ? u.name : `${u.name} (customer)`}
        </button>
      ))}
      {error && <div className="error">{error}</div>}
    </div>
  );
}

function TicketList({ tickets, active, names, isAgent, onSelect }: { tickets: Ticket[]; active: string | null; names: Names; isAgent: boolean; onSelect: (id: string) => void }) {
  if (!tickets.length) return <div className="empty">{isAgent ? 'No tickets yet: they appear here as customers open them.' : 'No requests yet: describe your problem above to open one.'}</div>;
  return (
    <ul className="tickets" data-testid="ticket-list">
      {tickets.map((t) => (
        <li key={t.id} className={t.id === active ? 'active' : ''} onClick={() => onSelect(t.id)} data-testid={`ticket-${t.id}`} data-subject={t.subject}>
          <div className="aw-wrap">
            {t.subject}
            <span className={`badge ${t.status}`} data-testid="list-status">
              {t.status}
            </span>
          </div>
          <div className="meta" data-testid="list-meta">
            {isAgent ? `${nameOf(names, t.requesterId, 'a customer')} · ` : ''}
            {t.assigneeId ? `assigned to ${nameOf(names, t.assigneeId, 'an agent')}` : 'unassigned'} · {new Date(t.updatedAt).toLocaleTimeString()}
          </div>
        </li>
      ))}
    </ul>
  );
}

function Desk({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const { token, user } = session;
  const hub = useHubClient(token);
  const { client } = hub;
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [active, setActiveState] = useState<string | null>(ticketFromUrl);
  const [users, setUsers] = useState<User[]>([]);
  const [notice, setNotice] = useState<{ text: string; sessionId: string; ticketId: string; live: boolean } | null>(null);
  const [subject, setSubject] = useState('');
  const [firstMessage, setFirstMessage] = useState('');
  const [error, setError] = useState('');
  const isAgent = user.role === 'agent';
  const names: Names = new Map([...users.map((u) => [u.id, u.name] as const), [user.id, user.name]]);
  const agents = users.filter((u) => u.role === 'agent');

  const setActive = (id: string | null) => {
    setActiveState(id);
    const url = new URL(location.href);
    if (id) url.searchParams.set('ticket', id);
    else url.searchParams.delete('ticket');
    history.replaceState(null, '', url);
  };

  const refresh = useCallback(async () => {
    const r = await api<{ tickets: Ticket[] }>(token, 'GET', '/tickets');
    setTickets(r.tickets);
  }, [token]);

  const upsert = useCallback((t: Ticket) => {
    setTickets((prev) => {
      const old = prev.find((x) => x.id === t.id);
      const merged = { ...old, ...t, createdAt: old?.createdAt ?? t.createdAt };
      return [merged, ...prev.filter((x) => x.id !== t.id)].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    });
  }, []);

  useEffect(() => {
    void refresh().catch((e: Error) => setError(e.message));
    if (isAgent) void api<{ users: User[] }>(token, 'GET', '/users').then((r) => setUsers(r.users), (e: Error) => setError(e.message));
  }, [refresh, isAgent, token]);

  // Agents: the live ticket list. Every event there carries a snapshot of its ticket.
  useChannel(
    client,
    isAgent ? 'support:agents' : null,
    (p) => {
      const e = p.data as StreamEvent;
      if (e.metadata.ticket) upsert({ ...e.metadata.ticket, createdAt: e.metadata.ticket.updatedAt });
    },
    (r) => void (r.recovered || refresh()),
  );

  // Customers: personal notices (remote sessions on their tickets).
  useChannel(client, isAgent ? null : `support-user:${user.id}`, (pub) => {
    const e = pub.data as StreamEvent;
    const p = e.payload as { sessionId: string; ticketId: string; agentName: string; controlMode?: ControlMode; to?: ControlMode; durationMs?: number };
    if (e.type === 'remote_session_start') setNotice({ text: `${p.agentName} started a remote session (${MODE_LABEL[p.controlMode!]}).`, sessionId: p.sessionId, ticketId: p.ticketId, live: true });
    else if (e.type === 'control_mode_changed') setNotice({ text: `${p.agentName} switched the remote session to ${MODE_LABEL[p.to!]}.`, sessionId: p.sessionId, ticketId: p.ticketId, live: true });
    else if (e.type === 'remote_session_end') setNotice({ text: `The remote session with ${p.agentName} ended after ${Math.round((p.durationMs ?? 0) / 1000)} s.`, sessionId: p.sessionId, ticketId: p.ticketId, live: false });
  });

  const createTicket = async () => {
    try {
      const input = { subject: subject.trim(), body: firstMessage.trim() };
      const action = `ticket ${JSON.stringify(input)}`;
      const r = await api<{ ticket: Ticket }>(token, 'POST', '/tickets', input, { idempotencyKey: actionKeys.keyFor(action) });
      actionKeys.succeeded(action);
      upsert(r.ticket);
      setActive(r.ticket.id);
      setSubject('');
      setFirstMessage('');
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="desk">
      <AppHeader title={`Help desk · ${isAgent ? 'Agent console' : 'My requests'}`}>
        <span className={`conn ${hub.state}`} data-testid="conn-state">
          {describeConnection(hub)}
        </span>
        <span data-testid="whoami">{user.name}</span>
        <button onClick={onLogout}>Log out</button>
      </AppHeader>
      <main className={active ? 'has-ticket' : ''}>
        <aside>
          {!isAgent && (
            <form
              className="new-ticket"
              onSubmit={(e) => {
                e.preventDefault();
                void createTicket();
              }}
            >
              <input data-testid="new-subject" placeholder="Subject (up to 200 characters)" value={subject} maxLength={200} onChange={(e) => setSubject(e.target.value)} />
              <input data-testid="new-body" placeholder="Describe the problem" value={firstMessage} maxLength={4000} onChange={(e) => setFirstMessage(e.target.value)} />
              <button data-testid="new-ticket" disabled={!subject.trim() || !firstMessage.trim()}>
                Open ticket
              </button>
            </form>
          )}
          {error && <div className="error" role="alert">{error}</div>}
          <TicketList tickets={tickets} active={active} names={names} isAgent={isAgent} onSelect={setActive} />
        </aside>
        <section>
          {notice && (
            <div className="notice" data-testid="remote-notice">
              {notice.text}{' '}
              {notice.live && (
                <button data-testid="remote-revoke" onClick={() => void api(token, 'DELETE', `/tickets/${notice.ticketId}/remote-sessions/${notice.sessionId}`).catch((e: Error) => setError(e.message))}>
                  Stop sharing
                </button>
              )}
            </div>
          )}
          {active && client ? <TicketView key={active} session={session} client={client} ticketId={active} agents={agents} names={names} onTicket={upsert} onBack={() => setActive(null)} /> : <div className="empty">Pick a ticket.</div>}
        </section>
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const saved = sessionStorage.getItem('support-session');
    return saved ? (JSON.parse(saved) as Session) : null;
  });
  const login = (s: Session) => {
    sessionStorage.setItem('support-session', JSON.stringify(s));
    setSession(s);
  };
  const logout = () => {
    sessionStorage.removeItem('support-session');
    setSession(null);
  };
  return session ? <Desk session={session} onLogout={logout} /> : <Login onLogin={login} />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
