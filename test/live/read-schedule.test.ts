/**
 * @module test/live/read-schedule
 * How long a publisher's socket may stay unread (Segmenter.msUntilNextCut, which
 * apps/live/rtmp/server's ReadBatcher waits for): never past the frame that closes a part, so no
 * part is made later than reading at once would make it; and most of a part long, so a lone
 * publisher wakes the process a few times a second instead of 25.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Segmenter } from '../../src/apps/live/media/segmenter.js';

/** 30 fps frames (33/34 ms apart), a keyframe every `gopMs`; after each, what the reader may wait and whether a part closed. */
function run(gopMs: number, seconds: number): { dts: number; waitUntil: number; closed: boolean }[] {
  const seg = new Segmenter({ partTargetMs: 250, segmentTargetMs: 1000, windowSegments: 4 });
  seg.video = { avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]), width: 64, height: 36 };
  const frame = Buffer.alloc(100);
  const out: { dts: number; waitUntil: number; closed: boolean }[] = [];
  let parts = 0;
  for (let i = 0; i * 1000 < seconds * 30_000; i++) {
    const dts = Math.round((i * 1000) / 30);
    seg.pushVideo(dts, 0, dts % gopMs < 33, frame);
    const made = (seg.open?.parts.length ?? 0) + seg.segments.reduce((n, s) => n + s.parts.length, 0);
    out.push({ dts, waitUntil: dts + seg.msUntilNextCut, closed: made > parts });
    parts = made;
  }
  return out;
}

for (const gopMs of [1000, 2000, 500]) {
  test(`reading waits at most until the frame that closes the next part (GOP ${gopMs} ms)`, () => {
    const frames = run(gopMs, 12);
    // The rate is counted from 4 s on: until a GOP is known, a reader past the segment target reads every tick.
    let waited = 0;
    let reads = 0;
    // A reader that wakes only when the last frame it read says so: the frames it finds then.
    for (let i = 0; i < frames.length; ) {
      const until = frames[i]!.waitUntil;
      let j = i + 1;
      while (j < frames.length && frames[j]!.dts < until) {
        assert.ok(!frames[j]!.closed, `the frame at ${frames[j]!.dts} ms closes a part but was left unread until ${until} ms`);
        j++;
      }
      if (frames[i]!.dts >= 4000) {
        waited += Math.min(until, frames.at(-1)!.dts) - frames[i]!.dts;
        reads++;
      }
      i = j;
    }
    // Without the schedule: a read every 40 ms (25 a second). With it: about one per part and keyframe (5 a second at 1 s GOPs).
    const perSecond = reads / 8;
    assert.ok(perSecond <= 5.5, `${perSecond} reads a second`);
    assert.ok(waited / reads > 100, `the mean wait is ${(waited / reads).toFixed(0)} ms`);
  });
}

test('nothing to wait for before the first keyframe, or with no video', () => {
  const seg = new Segmenter({ partTargetMs: 250, segmentTargetMs: 1000, windowSegments: 4 });
  assert.equal(seg.msUntilNextCut, 0);
  seg.video = { avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]), width: 64, height: 36 };
  seg.pushVideo(0, 0, false, Buffer.alloc(10));
  assert.equal(seg.msUntilNextCut, 0);
});
