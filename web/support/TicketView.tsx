/**
 * @module web/support/TicketView
 * One ticket: loads it and its chat over REST, follows its room on the hub (messages, typing,
 * status, assignment, remote sessions), and composes the head, timeline and composer.
 */
import { useCallback, useEffect, useState } from 'react';
import type { AirwavesClient } from '../../src/client/index.js';
import { useChannel } from '../shared/use-hub.js';
import { actionKeys, api, MODE_LABEL, nameOf, type ControlMode, type Message, type Names, type RemoteSession, type Session, type StreamEvent, type Ticket, type User } from './api.js';
import { Composer } from './Composer.js';
import { TicketHeader } from './TicketHeader.js';
import { Timeline, type TimelineNote } from './Timeline.js';
import { useTypers } from './typers.js';

export function TicketView(props: { session: Session; client: AirwavesClient; ticketId: string; agents: User[]; names: Names; onTicket: (t: Ticket) => void; onBack: () => void }) {
  const { session, client, ticketId, agents, names, onTicket, onBack } = props;
  const { token, user } = session;
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [remote, setRemote] = useState<RemoteSession | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [notes, setNotes] = useState<TimelineNote[]>([]);
  const [olderCursor, setOlderCursor] = useState<number | null>(null);
  const typers = useTypers(user.id);
  const [error, setError] = useState('');
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
    setNotes([]);
    void load();
  }, [load]);

  const note = (e: StreamEvent, text: string) => setNotes((prev) => (prev.some((n) => n.id === e.eventId) ? prev : [...prev, { id: e.eventId, at: new Date(e.timestamp).toISOString(), text }]));
  const actorName = (e: StreamEvent) => (e.metadata.actorId === user.id ? 'You' : nameOf(names, e.metadata.actorId, e.metadata.actorRole === 'agent' ? 'An agent' : 'The customer'));

  const onRoomEvent = (e: StreamEvent) => {
    switch (e.type) {
      case 'chat_message': {
        const p = e.payload as { messageId: string; authorId: string; authorName: string; body: string; createdAt: string };
        addMessages([{ id: Number(p.messageId), authorId: p.authorId, authorName: p.authorName, body: p.body, createdAt: p.createdAt }]);
        typers.stopped(p.authorId);
        break;
      }
      case 'typing_start':
      case 'typing_stop': {
        const p = e.payload as { userId: string; userName: string };
        if (e.type === 'typing_start') typers.started(p.userId, p.userName);
        else typers.stopped(p.userId);
        break;
      }
      case 'status_change':
      case 'assignment_change': {
        const t = e.metadata.ticket;
        if (t) {
          setTicket((prev) => (prev ? { ...prev, ...t } : prev));
          onTicket({ ...t, createdAt: ticket?.createdAt ?? t.updatedAt });
        }
        const p = e.payload as { from?: string | null; to?: string | null; toName?: string | null };
        if (e.type === 'status_change') note(e, `${actorName(e)} changed the status from ${p.from} to ${p.to}`);
        else note(e, p.to ? `${actorName(e)} assigned the ticket to ${p.toName ?? nameOf(names, p.to, 'an agent')}` : `${actorName(e)} unassigned the ticket`);
        break;
      }
      case 'remote_session_start': {
        const p = e.payload as { agentName: string; controlMode: ControlMode };
        note(e, `${p.agentName} started a remote session (${MODE_LABEL[p.controlMode]})`);
        break;
      }
      case 'remote_session_end': {
        const p = e.payload as { agentName: string; durationMs: number };
        setRemote(null);
        const who = e.metadata.actorRole === 'agent' ? (e.metadata.actorId === user.id ? 'You' : p.agentName) : e.metadata.actorId === user.id ? 'You' : 'The customer';
        note(e, `${who} ended the remote session after ${Math.round(p.durationMs / 1000)} s`);
        break;
      }
    }
  };
  // A resubscription that could not replay everything: read the truth back from the API.
  useChannel(client, `support:room:${ticketId}`, (p) => onRoomEvent(p.data as StreamEvent), (r) => void (r.recovered || load()));

  const act = (fn: () => Promise<unknown>) =>
    void fn().then(
      () => setError(''),
      (e: Error) => setError(e.message),
    );

  const send = async (body: string): Promise<boolean> => {
    try {
      const action = `message ${ticketId} ${body}`;
      const r = await api<{ message: Message }>(token, 'POST', `/tickets/${ticketId}/messages`, { body }, { idempotencyKey: actionKeys.keyFor(action) });
      actionKeys.succeeded(action);
      addMessages([r.message]);
      setError('');
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };

  const loadOlder = async () => {
    if (olderCursor === null) return;
    const page = await api<{ messages: Message[]; nextBefore: number | null }>(token, 'GET', `/tickets/${ticketId}/messages?limit=50&before=${olderCursor}`);
    addMessages(page.messages);
    setOlderCursor(page.nextBefore);
  };

  if (!ticket) return <div className="empty">{error || 'Loading…'}</div>;
  const canReopen = ticket.status === 'closed' && (isAgent || ticket.requesterId === user.id);
  return (
    <div className="ticket">
      <TicketHeader token={token} ticket={ticket} remote={remote} isAgent={isAgent} agents={agents} names={names} onBack={onBack} act={act} setTicket={setTicket} setRemote={setRemote} />
      {error && (
        <div className="error" data-testid="error" role="alert">
          {error}
        </div>
      )}
      <Timeline messages={messages} notes={notes} me={user.id} olderAvailable={olderCursor !== null} onLoadOlder={() => void loadOlder()} />
      <div className={`typing ${typers.names.length ? 'visible' : ''}`} data-testid="typing" aria-live="polite">
        {typers.names.length ? `${typers.names.join(', ')} ${typers.names.length > 1 ? 'are' : 'is'} typing…` : ''}
      </div>
      <Composer client={client} ticketId={ticketId} status={ticket.status} onSend={send} onReopen={canReopen ? () => act(async () => setTicket((await api<{ ticket: Ticket }>(token, 'POST', `/tickets/${ticketId}/reopen`)).ticket)) : null} />
    </div>
  );
}
