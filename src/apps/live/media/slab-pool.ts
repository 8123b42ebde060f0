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

export interface Slab {
  buffer: Buffer;
  used: number;
  holds: number;
}

const NOTHING_TO_RELEASE = (): void => {};

/**
 * One allocation: a part's (or a staged RTMP payload's) bytes, the window's hold on them
 * (`releaseWindow`, taken at allocation) and the way to take more holds (`hold`).
 *
 * A class whose two functions are assigned in the constructor, not closures returned from
 * `allocate`: this runs for every RTMP media message, and under tsx (bench and tests) esbuild's
 * keepNames wraps every closure bound to a name in an `Object.defineProperty` call, which cost
 * about a quarter of the ingest thread's time (bench live ingest, --cpu-prof, 10 publishers).
 */
export class SlabLease {
  /** Holds the bytes; the returned function releases this hold (once, whatever calls it). */
  readonly hold: () => () => void;
  /** Releases the hold taken at allocation (once, whatever calls it). */
  readonly releaseWindow: () => void;
  private windowReleased = false;

  constructor(
    readonly data: Buffer,
    slab: Slab | null,
    pool: SlabPool,
  ) {
    if (!slab) {
      this.hold = () => NOTHING_TO_RELEASE;
      this.releaseWindow = NOTHING_TO_RELEASE;
      return;
    }
    slab.holds++;
    this.hold = () => {
      slab.holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        pool.unhold(slab);
      };
    };
    this.releaseWindow = () => {
      if (this.windowReleased) return;
      this.windowReleased = true;
      pool.unhold(slab);
    };
  }

  /** The allocation as `{ lease, releaseWindow }` destructures it. */
  get lease(): SlabLease {
    return this;
  }
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

  /** `size` bytes for one part, held once (the window's hold) until `releaseWindow`. */
  allocate(size: number): SlabLease {
    if (size > this.slabBytes) {
      // Larger than a slab (a very high bitrate): its own buffer, left to the collector.
      return new SlabLease(Buffer.allocUnsafeSlow(size), null, this);
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
    return new SlabLease(data, slab, this);
  }

  /** One hold on `slab` let go (SlabLease): the slab is reused once none is left and it is not being filled. */
  unhold(slab: Slab): void {
    slab.holds--;
    if (slab.holds === 0 && slab !== this.current) this.recycle(slab);
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
