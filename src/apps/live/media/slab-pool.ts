/**
 * @module apps/live/media/slab-pool
 * Reusable memory for the fragments (parts) one broadcast writes. Each part lives for the whole
 * playlist window, so allocating a fresh buffer per part meant a steady stream of long-lived
 * ArrayBuffers: V8 promotes them and answers with a full collection about every half second,
 * and the kernel zero-fills every new page. Here parts are carved from 1 MiB slabs that go back
 * to a small free list once nothing holds them, so a steady stream writes into warm memory.
 *
 * A slab is held once per part while the part is in the window and once per response still
 * sending it; it is reused only when every hold is released and it is no longer being filled,
 * so bytes a viewer is still receiving are never overwritten.
 */

interface Slab {
  buffer: Buffer;
  used: number;
  holds: number;
}

/** A part's bytes and the way to keep them from being reused. */
export interface SlabLease {
  data: Buffer;
  /** Holds the bytes; the returned function releases this hold (once, whatever calls it). */
  hold(): () => void;
}

export class SlabPool {
  private current: Slab | null = null;
  private readonly free: Slab[] = [];
  /** Slabs allocated (not reused) over the pool's life: stays flat once a stream is steady. */
  allocated = 0;

  constructor(
    private readonly slabBytes = 1 << 20,
    private readonly maxFree = 4,
  ) {}

  /** `size` bytes for one part, held once (the window's hold) until `release` of that hold. */
  allocate(size: number): { lease: SlabLease; releaseWindow: () => void } {
    if (size > this.slabBytes) {
      // Larger than a slab (a very high bitrate): its own buffer, left to the collector.
      const data = Buffer.allocUnsafeSlow(size);
      return { lease: { data, hold: () => () => {} }, releaseWindow: () => {} };
    }
    let slab = this.current;
    if (!slab || slab.used + size > slab.buffer.length) {
      if (slab) this.seal(slab);
      slab = this.free.pop() ?? this.newSlab();
      slab.used = 0;
      this.current = slab;
    }
    const data = slab.buffer.subarray(slab.used, slab.used + size);
    slab.used += size;
    const owner = slab;
    const hold = () => {
      owner.holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        owner.holds--;
        if (owner.holds === 0 && owner !== this.current) this.recycle(owner);
      };
    };
    return { lease: { data, hold }, releaseWindow: hold() };
  }

  private newSlab(): Slab {
    this.allocated++;
    return { buffer: Buffer.allocUnsafeSlow(this.slabBytes), used: 0, holds: 0 };
  }

  private seal(slab: Slab): void {
    this.current = null;
    if (slab.holds === 0) this.recycle(slab);
  }

  private recycle(slab: Slab): void {
    if (this.free.length < this.maxFree && !this.free.includes(slab)) this.free.push(slab);
  }
}
