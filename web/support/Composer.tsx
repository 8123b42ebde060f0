/**
 * @module web/support/Composer
 * Writing to a ticket: typing signals (state, not keystrokes: src/apps/support/shared/typing-client.ts),
 * the length limit shown, and a closed ticket's composer disabled with "Reopen" where allowed.
 */
import { useRef, useState } from 'react';
import type { AirwavesClient } from '../../src/client/index.js';
import { TYPING_IDLE_MS, TypingThrottle } from '../../src/apps/support/shared/typing-client.js';
import { MAX_MESSAGE_CHARS, type TicketStatus } from './api.js';

export function Composer(props: { client: AirwavesClient; ticketId: string; status: TicketStatus; onSend: (body: string) => Promise<boolean>; onReopen: (() => void) | null }) {
  const { client, ticketId, status, onSend, onReopen } = props;
  const [draft, setDraft] = useState('');
  const typing = useRef<{ throttle: TypingThrottle; idle?: ReturnType<typeof setTimeout> }>({ throttle: new TypingThrottle() });
  // Each a signal without a reply; while disconnected one is skipped and the next resend says the same.
  const sendTyping = (type: 'typing_start' | 'typing_stop') => void client.send(`support-typing:${ticketId}`, { type });

  const onDraft = (value: string) => {
    setDraft(value);
    const t = typing.current;
    if (t.throttle.keystroke(Date.now())) sendTyping('typing_start');
    if (t.idle) clearTimeout(t.idle);
    t.idle = setTimeout(() => {
      t.throttle.stopped();
      sendTyping('typing_stop');
    }, TYPING_IDLE_MS);
  };

  const send = async () => {
    const body = draft.trim();
    if (!body) return;
    const t = typing.current;
    if (t.idle) clearTimeout(t.idle);
    t.throttle.stopped();
    sendTyping('typing_stop');
    if (await onSend(body)) setDraft('');
  };

  if (status === 'closed') {
    return (
      <div className="composer closed" data-testid="composer-closed">
        <span className="muted">This ticket is closed.</span>
        {onReopen && (
          <button className="primary" data-testid="reopen" onClick={onReopen}>
            Reopen
          </button>
        )}
        <input data-testid="composer" disabled placeholder="Reopen the ticket to write" aria-label="message" />
      </div>
    );
  }
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <input data-testid="composer" value={draft} maxLength={MAX_MESSAGE_CHARS} placeholder="Write a message…" aria-label="message" onChange={(e) => onDraft(e.target.value)} />
      {draft.length > MAX_MESSAGE_CHARS * 0.9 && <span className="muted" data-testid="composer-count">{draft.length} / {MAX_MESSAGE_CHARS}</span>}
      <button data-testid="send" disabled={!draft.trim()}>
        Send
      </button>
    </form>
  );
}
