/**
 * @module web/support/typers
 * Who is typing in a ticket: started and stopped by room events; an indicator whose "stop" was
 * lost (a closed tab) fades after TYPING_STALE_MS.
 */
import { useEffect, useState } from 'react';

const TYPING_STALE_MS = 6000;

export function useTypers(me: string): { names: string[]; started: (id: string, name: string) => void; stopped: (id: string) => void } {
  const [typers, setTypers] = useState<Map<string, { name: string; at: number }>>(new Map());
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
  return {
    names: [...typers.values()].map((t) => t.name),
    started: (id, name) => {
      if (id === me) return;
      setTypers((prev) => new Map(prev).set(id, { name, at: Date.now() }));
    },
    stopped: (id) =>
      setTypers((prev) => {
        if (!prev.has(id)) return prev;
        const next = new Map(prev);
        next.delete(id);
        return next;
      }),
  };
}
