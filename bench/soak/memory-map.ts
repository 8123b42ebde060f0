/**
 * @module bench/soak/memory-map
 * Where a process's resident memory lives, from /proc/<pid>/smaps: the soak samples it beside RSS
 * so that growth is attributed to a kind of memory, not guessed. The V8 heap is flat in the soaks
 * (its /metrics figure covers the main thread only); what grows is elsewhere, and the kinds here
 * are the ones a Node process with worker threads and WebAssembly has:
 *
 * - `v8Pages`: anonymous read-write mappings of exactly 256 KiB, V8's heap pages, of every
 *   isolate (the main thread and each worker thread);
 * - `arenas`: glibc malloc's per-thread arenas, read-write anonymous mappings that start on a
 *   64 MiB boundary and end inside it (the rest of the 64 MiB is reserved, `---p`); each thread
 *   that mallocs gets one, so one that keeps growing names a thread;
 * - `brk`: the main arena (`[heap]`), the main thread's malloc;
 * - `wasm`: WebAssembly memories (PGlite, the Opus encoder), read-write regions followed by a
 *   reservation of gigabytes (V8's guard region); they grow and never shrink;
 * - `otherAnon`: every other anonymous mapping (code space, thread stacks, large objects);
 * - `file`: mapped files (the node binary, shared libraries).
 */
import { readFileSync } from 'node:fs';

export interface MemoryMap {
  v8PagesMb: number;
  arenasMb: number;
  brkMb: number;
  wasmMb: number;
  otherAnonMb: number;
  fileMb: number;
  /** Resident MB of each thread arena, by start address (hex), largest first. */
  arenas: Record<string, number>;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  name: string;
  rssKb: number;
}

const ARENA_SPAN = 64 * 1024 * 1024;
const V8_PAGE = 256 * 1024;
const GUARD_MIN = 1024 * 1024 * 1024;

function parse(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], name: m[4].trim(), rssKb: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && out.length) out[out.length - 1].rssKb = Number(rss[1]);
  }
  return out;
}

/** Classifies the mappings of a smaps text (exported for tests on a fixture). */
export function classify(text: string): MemoryMap {
  const maps = parse(text);
  const kb = { v8Pages: 0, arenas: 0, brk: 0, wasm: 0, otherAnon: 0, file: 0 };
  const arenas: [string, number][] = [];
  maps.forEach((m, i) => {
    if (m.name === '[heap]') return void (kb.brk += m.rssKb);
    if (m.name) return void (m.name.startsWith('/') ? (kb.file += m.rssKb) : (kb.otherAnon += m.rssKb));
    if (m.perms.startsWith('rw') && m.end - m.start === V8_PAGE) return void (kb.v8Pages += m.rssKb);
    const next = maps[i + 1];
    const reservedAfter = next && next.start === m.end && next.perms === '---p' && !next.name ? next.end - next.start : 0;
    if (m.perms.startsWith('rw') && reservedAfter >= GUARD_MIN) return void (kb.wasm += m.rssKb);
    const inOneSpan = m.start % ARENA_SPAN === 0 && m.end - m.start <= ARENA_SPAN && (reservedAfter === 0 || m.start + ARENA_SPAN === m.end + reservedAfter);
    if (m.perms.startsWith('rw') && inOneSpan) {
      kb.arenas += m.rssKb;
      arenas.push([m.start.toString(16), Math.round(m.rssKb / 102.4) / 10]);
      return;
    }
    kb.otherAnon += m.rssKb;
  });
  const mb = (v: number) => Math.round(v / 102.4) / 10;
  return {
    v8PagesMb: mb(kb.v8Pages),
    arenasMb: mb(kb.arenas),
    brkMb: mb(kb.brk),
    wasmMb: mb(kb.wasm),
    otherAnonMb: mb(kb.otherAnon),
    fileMb: mb(kb.file),
    arenas: Object.fromEntries(arenas.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])),
  };
}

/** The memory map of a live process, or null once it is gone. */
export function sampleMemoryMap(pid: number): MemoryMap | null {
  try {
    return classify(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  } catch {
    return null;
  }
}
