/**
 * @module web/support
 * The help desk UI: an agent console (live ticket list, a ticket's chat with typing indicators,
 * status, assignment and remote-session controls) and a customer view (own tickets, chat,
 * personal remote-session notices). REST for everything stored, the hub for everything live.
 */
import { StrictMode, useCallback, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AirwavesClient, type ClientState, type Publication } from '../../src/client/index.js';
// Types only (erased from the bundle): the page reads exactly what the desk's REST API returns.
import type { ControlMode, Role, TicketStatus as Status } from '../../src/apps/support/events.js';
import type { ChatMessage, RemoteSession, SupportUser as User, Ticket } from '../../src/apps/support/desk.js';
import { TYPING_IDLE_MS, TypingThrottle } from '../../src/apps/support/typing-client.js';
import { DEMO_USERS } from '../../src/apps/support/demo-users.js';

/** A chat line as the UI keeps it: built from REST pages and from live events, which carry these fields. */
type Message = Pick<ChatMessage, 'id' | 'authorId' | 'authorName' | 'body' | 'createdAt'>;
interface StreamEvent { eventId: string; type: string; roomId: string; timestamp: number; payload: Record<string, unknown>; metadata: { actorId: string; actorRole: Role; ticket?: Ticket } }
interface Session { token: string; user: User }

const API = '/api/v1/support';
const STATUSES: Status[] = ['open', 'pending', 'solved', 'closed'];
const MODE_LABEL: Record<ControlMode, string> = { view_only: 'view only', full_control: 'full control' };
/** A typing indicator whose "stop" was lost (closed tab) fades after this long. */
const TYPING_STALE_MS = 6000;

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function api<T>(token: string | null, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'error', json.error?.message ?? res.statusText);
  return json;
}

function useHub(token: string): { client: AirwavesClient | null; state: ClientState } {
  // Made inside the effect (not useMemo) so a strict-mode remount gets a fresh client, not a closed one.
  const [client, setClient] = useState<AirwavesClient | null>(null);
  const [state, setState] = useState<ClientState>('idle');
  useEffect(() => {
    const c = new AirwavesClient({ url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, token });
    const update = () => setState(c.state);
    c.on('connected', update).on('disconnected', update).on('reconnecting', update);
    setClient(c);
    c.connect().then(update, update);
    return () => c.close();
  }, [token]);
  return { client, state };
}

/** Subscribes for the component's lifetime; `onEvent` may change without resubscribing. */
function useChannel(client: AirwavesClient | null, channel: string | null, onEvent: (e: StreamEvent) => void, onRecovered?: (ok: boolean) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const recovered = useRef(onRecovered);
  recovered.current = onRecovered;
  useEffect(() => {
    if (!channel || !client) return;
    const sub = client.subscribe(channel, {
      publication: (p: Publication) => handler.current(p.data as StreamEvent),
      recovered: (r) => recovered.current?.(r.recovered),
    });
    return () => void sub.unsubscribe().catch(() => {});
  }, [client, channel]);
}

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

function TicketList({ tickets, active, onSelect }: { tickets: Ticket[]; active: string | null; onSelect: (id: string) => void }) {
  return (
    <ul className="tickets" data-testid="ticket-list">
      {tickets.map((t) => (
        <li key={t.id} className={t.id === active ? 'active' : ''} onClick={() => onSelect(t.id)} data-testid={`ticket-${t.id}`} data-subject={t.subject}>
          <div>
            {t.subject}
            <span className={`badge ${t.status}`} data-testid="list-status">{t.status}</span>
          </div>
          <div className="meta">
            {t.requesterId} · {t.assigneeId ? `assigned to ${t.assigneeId}` : 'unassigned'} · {new Date(t.updatedAt).toLocaleTimeString()}
          </div>
        </li>
      ))}
    </ul>
  );
}

function TicketView({ session, client, ticketId, agents, onTicket }: { session: Session; client: AirwavesClient; ticketId: string; agents: User[]; onTicket: (t: Ticket) => void }) {
  const { token, user } = session;
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [remote, setRemote] = useState<RemoteSession | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [olderCursor, setOlderCursor] = useState<number | null>(null);
  const [typers, setTypers] = useState<Map<string, { name: string; at: number }>>(new Map());
  const [draft, setDraft] = useState('');
  const [error, setError] = useState('');
  const chatRef = useRef<HTMLDivElement>(null);
  const typingState = useRef<{ throttle: TypingThrottle; idle?: ReturnType<typeof setTimeout> }>({ throttle: new TypingThrottle() });
  const isAgent = user.role === 'agent';

  const addMessages = useCallback((incoming: Message[]) => {
    setMessages((prev) => {
      const byId = new Map(prev.map((m) => [m.id, m]));
      for (const m of incoming) byId.set(m.id, m);
      return [...byId.values()].sort((a, b) => a.id - b.id);
    });
  }, []);

  const load = useCallback(async () => {
    try {
      const [t, page] = await Promise.all([
        api<{ ticket: Ticket; remoteSession: RemoteSession | null }>(token, 'GET', `/tickets/${ticketId}`),
        api<{ messages: Message[]; nextBefore: number | null }>(token, 'GET', `/tickets/${ticketId}/messages?limit=50`),
      ]);
      setTicket(t.ticket);
      setRemote(t.remoteSession);
      addMessages(page.messages);
      setOlderCursor(page.nextBefore);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [token, ticketId, addMessages]);

  useEffect(() => {
    setMessages([]);
    setTypers(new Map());
    void load();
  }, [load]);

  const onRoomEvent = (e: StreamEvent) => {
    switch (e.type) {
      case 'chat_message': {
        const p = e.payload as { messageId: string; authorId: string; authorName: string; body: string; createdAt: string };
        addMessages([{ id: Number(p.messageId), authorId: p.authorId, authorName: p.authorName, body: p.body, createdAt: p.createdAt }]);
        setTypers((prev) => {
          if (!prev.has(p.authorId)) return prev;
          const next = new Map(prev);
          next.delete(p.authorId);
          return next;
        });
        break;
      }
      case 'typing_start':
      case 'typing_stop': {
        const p = e.payload as { userId: string; userName: string };
        if (p.userId === user.id) break;
        setTypers((prev) => {
          const next = new Map(prev);
          if (e.type === 'typing_start') next.set(p.userId, { name: p.userName, at: Date.now() });
          else next.delete(p.userId);
          return next;
        });
        break;
      }
      case 'status_change':
      case 'assignment_change':
        if (e.metadata.ticket) {
          const t = e.metadata.ticket;
          setTicket((prev) => (prev ? { ...prev, ...t } : prev));
          onTicket({ ...t, createdAt: ticket?.createdAt ?? t.updatedAt });
        }
        break;
    }
  };
  // A resubscription that could not replay everything: read the truth back from the API.
  useChannel(client, `support:room:${ticketId}`, onRoomEvent, (ok) => void (ok || load()));

  useEffect(() => {
    const timer = setInterval(() => {
      setTypers((prev) => {
        const now = Date.now();
        const stale = [...prev].filter(([, v]) => now - v.at > TYPING_STALE_MS);
        if (!stale.length) return prev;
        const next = new Map(prev);
        for (const [k] of stale) next.delete(k);
        return next;
      });
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    chatRef.current?.scrollTo({ top: chatRef.current.scrollHeight });
  }, [messages.length]);

  // State, not keystrokes (src/apps/support/typing-client.ts), each a signal without a reply.
  // While disconnected a signal is skipped: the next resend after the reconnect says the same.
  const sendTyping = (type: 'typing_start' | 'typing_stop') => void client.send(`support-typing:${ticketId}`, { type });

  const onDraft = (value: string) => {
    setDraft(value);
    const ts = typingState.current;
    if (ts.throttle.keystroke(Date.now())) sendTyping('typing_start');
    if (ts.idle) clearTimeout(ts.idle);
    ts.idle = setTimeout(() => {
      ts.throttle.stopped();
      sendTyping('typing_stop');
    }, TYPING_IDLE_MS);
  };

  const send = async () => {
    const body = draft.trim();
    if (!body) return;
    const ts = typingState.current;
    if (ts.idle) clearTimeout(ts.idle);
    ts.throttle.stopped();
    sendTyping('typing_stop');
    try {
      const r = await api<{ message: Message }>(token, 'POST', `/tickets/${ticketId}/messages`, { body });
      addMessages([r.message]);
      setDraft('');
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const loadOlder = async () => {
    if (olderCursor === null) return;
    const page = await api<{ messages: Message[]; nextBefore: number | null }>(token, 'GET', `/tickets/${ticketId}/messages?limit=50&before=${olderCursor}`);
    addMessages(page.messages);
    setOlderCursor(page.nextBefore);
  };

  if (!ticket) return <div className="empty">{error || 'Loading…'}</div>;
  const typingNames = [...typers.values()].map((t) => t.name);
  return (
    <section>
      <div className="ticket-head">
        <h2 data-testid="ticket-subject">{ticket.subject}</h2>
        <span>
          Status: <span className={`badge ${ticket.status}`} data-testid="ticket-status">{ticket.status}</span>
        </span>
        {isAgent && (
          <>
            <select data-testid="status-select" value={ticket.status} onChange={(e) => void act(async () => setTicket((await api<{ ticket: Ticket }>(token, 'PUT', `/tickets/${ticketId}/status`, { status: e.target.value })).ticket))}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>{s}</option>
              ))}
            </select>
            <select data-testid="assignee-select" value={ticket.assigneeId ?? ''} onChange={(e) => void act(async () => setTicket((await api<{ ticket: Ticket }>(token, 'PUT', `/tickets/${ticketId}/assignee`, { assigneeId: e.target.value || null })).ticket))}>
              <option value="">unassigned</option>
              {agents.map((a) => (
                <option key={a.id} value={a.id}>{a.name}</option>
              ))}
            </select>
            {remote ? (
              <>
                <span data-testid="remote-state">Remote session: {MODE_LABEL[remote.controlMode]}</span>
                <button data-testid="remote-toggle-mode" onClick={() => void act(async () => setRemote((await api<{ session: RemoteSession }>(token, 'PUT', `/tickets/${ticketId}/remote-sessions/${remote.id}/control-mode`, { controlMode: remote.controlMode === 'view_only' ? 'full_control' : 'view_only' })).session))}>
                  Switch to {remote.controlMode === 'view_only' ? 'full control' : 'view only'}
                </button>
                <button data-testid="remote-end" onClick={() => void act(async () => { await api(token, 'DELETE', `/tickets/${ticketId}/remote-sessions/${remote.id}`); setRemote(null); })}>
                  End session
                </button>
              </>
            ) : (
              <>
                <button data-testid="remote-start-view" onClick={() => void act(async () => setRemote((await api<{ session: RemoteSession }>(token, 'POST', `/tickets/${ticketId}/remote-sessions`, { controlMode: 'view_only' })).session))}>
                  Start remote (view only)
                </button>
                <button data-testid="remote-start-full" onClick={() => void act(async () => setRemote((await api<{ session: RemoteSession }>(token, 'POST', `/tickets/${ticketId}/remote-sessions`, { controlMode: 'full_control' })).session))}>
                  Start remote (full control)
                </button>
              </>
            )}
          </>
        )}
      </div>
      {error && <div className="error" data-testid="error">{error}</div>}
      <div className="chat" ref={chatRef} data-testid="chat">
        {olderCursor !== null && <button onClick={() => void loadOlder()}>Load older messages</button>}
        {messages.map((m) => (
          <div key={m.id} className={`msg ${m.authorId === user.id ? 'mine' : ''}`} data-testid="message">
            <div className="who">{m.authorName} · {new Date(m.createdAt).toLocaleTimeString()}</div>
            <div className="body">{m.body}</div>
          </div>
        ))}
      </div>
      <div className={`typing ${typingNames.length ? 'visible' : ''}`} data-testid="typing" aria-live="polite">
        {typingNames.length ? `${typingNames.join(', ')} ${typingNames.length > 1 ? 'are' : 'is'} typing…` : ''}
      </div>
      <form className="composer" onSubmit={(e) => { e.preventDefault(); void send(); }}>
        <input data-testid="composer" value={draft} maxLength={4000} placeholder={ticket.status === 'closed' ? 'This ticket is closed' : 'Write a message…'} onChange={(e) => onDraft(e.target.value)} />
        <button data-testid="send" disabled={!draft.trim()}>Send</button>
      </form>
    </section>
  );
}

function Desk({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const { token, user } = session;
  const { client, state } = useHub(token);
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [active, setActive] = useState<string | null>(null);
  const [agents, setAgents] = useState<User[]>([]);
  const [notice, setNotice] = useState<{ text: string; sessionId: string; ticketId: string; live: boolean } | null>(null);
  const [subject, setSubject] = useState('');
  const [firstMessage, setFirstMessage] = useState('');
  const isAgent = user.role === 'agent';

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
    void refresh();
    if (isAgent) void api<{ users: User[] }>(token, 'GET', '/users?role=agent').then((r) => setAgents(r.users));
  }, [refresh, isAgent, token]);

  // Agents: the live ticket list. Every event there carries a snapshot of its ticket.
  useChannel(client, isAgent ? 'support:agents' : null, (e) => e.metadata.ticket && upsert({ ...e.metadata.ticket, createdAt: e.metadata.ticket.updatedAt }), (ok) => void (ok || refresh()));

  // Customers: personal notices (remote sessions on their tickets).
  useChannel(client, isAgent ? null : `support-user:${user.id}`, (e) => {
    const p = e.payload as { sessionId: string; ticketId: string; agentName: string; controlMode?: ControlMode; to?: ControlMode; durationMs?: number };
    if (e.type === 'remote_session_start') setNotice({ text: `${p.agentName} started a remote session (${MODE_LABEL[p.controlMode!]}).`, sessionId: p.sessionId, ticketId: p.ticketId, live: true });
    else if (e.type === 'control_mode_changed') setNotice({ text: `${p.agentName} switched the remote session to ${MODE_LABEL[p.to!]}.`, sessionId: p.sessionId, ticketId: p.ticketId, live: true });
    else if (e.type === 'remote_session_end') setNotice({ text: `The remote session with ${p.agentName} ended after ${Math.round((p.durationMs ?? 0) / 1000)} s.`, sessionId: p.sessionId, ticketId: p.ticketId, live: false });
  });

  const createTicket = async () => {
    const r = await api<{ ticket: Ticket }>(token, 'POST', '/tickets', { subject: subject.trim(), body: firstMessage.trim() });
    upsert(r.ticket);
    setActive(r.ticket.id);
    setSubject('');
    setFirstMessage('');
  };

  return (
    <>
      <header>
        <h1>Help desk · {isAgent ? 'Agent console' : 'My requests'}</h1>
        <span className={`conn ${state}`} data-testid="conn-state">{state}</span>
        <span data-testid="whoami">{user.name}</span>
        <button onClick={onLogout}>Log out</button>
      </header>
      <main>
        <aside>
          {!isAgent && (
            <form className="new-ticket" onSubmit={(e) => { e.preventDefault(); void createTicket(); }}>
              <input data-testid="new-subject" placeholder="Subject" value={subject} maxLength={200} onChange={(e) => setSubject(e.target.value)} />
              <input data-testid="new-body" placeholder="Describe the problem" value={firstMessage} maxLength={4000} onChange={(e) => setFirstMessage(e.target.value)} />
              <button data-testid="new-ticket" disabled={!subject.trim() || !firstMessage.trim()}>Open ticket</button>
            </form>
          )}
          <TicketList tickets={tickets} active={active} onSelect={setActive} />
        </aside>
        <section>
          {notice && (
            <div className="notice" data-testid="remote-notice">
              {notice.text}{' '}
              {notice.live && (
                <button data-testid="remote-revoke" onClick={() => void api(token, 'DELETE', `/tickets/${notice.ticketId}/remote-sessions/${notice.sessionId}`).catch(() => {})}>
                  Stop sharing
                </button>
              )}
            </div>
          )}
          {active && client ? <TicketView key={active} session={session} client={client} ticketId={active} agents={agents} onTicket={upsert} /> : <div className="empty">Pick a ticket.</div>}
        </section>
      </main>
    </>
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
