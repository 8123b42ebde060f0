/**
 * @module test/radio/join
 * Joining at the live edge: a player starts by replaying the newest chunks of a format's history,
 * which is only safe when the stream goes on right after them. The station's `live` flag per
 * format (GET /api/v1/radio/stations/:id) says so: true for a format being received (its replay
 * and the live chunks after it follow one another without a gap), false for a format whose
 * history stopped — the case where a replay of recent-looking audio was followed by a dropout.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, until } from '../helpers/server.js';
import { radioApp } from '../../src/apps/radio/index.js';
import { CODEC_OPUS } from '../../src/apps/radio/shared/format.js';
import { Listener, wallNow, type Arrival } from './listener.js';

interface Position {
  channel: string;
  offset: number;
  epoch: string;
  live: boolean;
}
type Formats = { pcm: Position; opus: Position };

/** The chunks after the replay: those published after `offset` (the history's top when asked). */
const liveAfter = (arrivals: Arrival[], offset: number) => arrivals.filter((a) => a.offset > offset);

describe('radio: joining at the live edge', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const stationInfo = async () => ((await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { formats: Formats }).formats;

  before(async () => {
    server = await startServer({ radioStations: [{ id: 'calm', seed: 7, mood: 'calm' }] }, { apps: [radioApp] });
  });

  after(async () => {
    await server?.close();
  });

  test('a station that just woke has nothing to replay; a received format continues its history without a gap, a format that stopped is not live', async () => {
    // A fresh station rests; this request wakes it: what its history might hold is not continued on time.
    const woken = await stationInfo();
    assert.equal(woken.pcm.live, false, 'pcm right after the wake-up');
    assert.equal(woken.opus.live, false, 'opus right after the wake-up');

    const a = await Listener.open(server.wsUrl);
    const b = await Listener.open(server.wsUrl);
    const c = await Listener.open(server.wsUrl);
    try {
      // A receives both formats, then stops receiving Opus (a pause, a reload, a switch to PCM).
      await a.subscribe(woken.pcm.channel);
      await a.subscribe(woken.opus.channel);
      await until('A receives Opus', () => a.arrivals.filter((x) => x.chunk.codec === CODEC_OPUS).length >= 20);
      const reply = await a.request('unsubscribe', { channel: woken.opus.channel });
      assert.equal(reply.ok, true);

      // Opus stops once its grace has run out; PCM goes on. Watch the history tops until PCM has
      // moved on three chunks past the newest Opus chunk: Opus's history ends with audio only ~60 ms old.
      const top = async (channel: string) => (await server.hub.history(channel, 0, 0)).top;
      let opusTop = await top(woken.opus.channel);
      let pcmAtOpusTop = await top(woken.pcm.channel);
      await until(
        'Opus stops being encoded after its grace',
        async () => {
          const [o, p] = [await top(woken.opus.channel), await top(woken.pcm.channel)];
          if (o !== opusTop) [opusTop, pcmAtOpusTop] = [o, p];
          return p - pcmAtOpusTop >= 3;
        },
        30_000,
        5,
      );
      const joinedAt = wallNow();
      const joined = await stationInfo();
      assert.equal(joined.pcm.live, true, 'PCM, which A receives, continues live');
      assert.equal(joined.opus.live, false, 'Opus stopped: its history is not continued without a gap');

      // What a player replaying Opus's history would have played: a tail followed by a gap.
      await b.subscribe(joined.opus.channel, { offset: joined.opus.offset - 4, epoch: joined.opus.epoch });
      await until('a new Opus chunk after the replay', () => liveAfter(b.arrivals, joined.opus.offset).length >= 1);
      const tail = b.arrivals.filter((x) => x.offset <= joined.opus.offset).at(-1)!;
      const next = liveAfter(b.arrivals, joined.opus.offset)[0]!;
      assert.ok(next.chunk.seq > tail.chunk.seq + 1, `Opus: chunk ${next.chunk.seq} follows the history's newest ${tail.chunk.seq}: no gap, yet not live`);
      console.log(
        `# opus history ended ${(joinedAt - tail.chunk.captureTs).toFixed(0)} ms ago at join; the next chunk (seq +${next.chunk.seq - tail.chunk.seq}) ` +
          `arrived ${(next.arrivedAt - tail.arrivedAt).toFixed(0)} ms after the replay`,
      );

      // PCM, live: its replay and the chunks after it follow one another.
      await c.subscribe(joined.pcm.channel, { offset: joined.pcm.offset - 4, epoch: joined.pcm.epoch });
      await until('ten PCM chunks after the replay', () => liveAfter(c.arrivals, joined.pcm.offset).length >= 10);
      const seqs = c.seqs();
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `PCM chunk ${seqs[i - 1]! + 1} missing after a live join`);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });
});
