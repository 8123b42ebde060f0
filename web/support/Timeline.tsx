/**
 * @module web/support/Timeline
 * A ticket's timeline: chat messages and, between them, what happened to the ticket (status,
 * assignment, remote sessions) as it happens. Long words wrap; the newest line stays in view.
 */
import { useEffect, useRef } from 'react';
import type { Message } from './api.js';

/** Something that happened to the ticket, shown between the messages at its time. */
export interface TimelineNote {
  id: string;
  at: string;
  text: string;
}

type Line = { kind: 'message'; at: string; message: Message } | { kind: 'note'; at: string; note: TimelineNote };

export function Timeline({ messages, notes, me, olderAvailable, onLoadOlder }: { messages: Message[]; notes: TimelineNote[]; me: string; olderAvailable: boolean; onLoadOlder: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const lines: Line[] = [...messages.map((m) => ({ kind: 'message' as const, at: m.createdAt, message: m })), ...notes.map((n) => ({ kind: 'note' as const, at: n.at, note: n }))].sort((a, b) => a.at.localeCompare(b.at));
  useEffect(() => {
    ref.current?.scrollTo({ top: ref.current.scrollHeight });
  }, [lines.length]);
  return (
    <div className="chat" ref={ref} data-testid="chat">
      {olderAvailable && <button onClick={onLoadOlder}>Load older messages</button>}
      {lines.map((l) =>
        l.kind === 'message' ? (
          <div key={`m${l.message.id}`} className={`msg ${l.message.authorId === me ? 'mine' : ''}`} data-testid="message">
            <div className="who">
              {l.message.authorName} · {new Date(l.message.createdAt).toLocaleTimeString()}
            </div>
            <div className="body aw-wrap">{l.message.body}</div>
          </div>
        ) : (
          <div key={l.note.id} className="note" data-testid="timeline-note">
            {l.note.text} · {new Date(l.note.at).toLocaleTimeString()}
          </div>
        ),
      )}
    </div>
  );
}
