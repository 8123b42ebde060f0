/**
 * @module apps/market/simulator/faults
 * Fault injection for the simulator's feeds, seeded so a failing run can be replayed: each
 * outgoing book update may be dropped (a gap), sent twice, or held back and sent after the next
 * one (out of order); snapshots may be served stale; Kraken checksums may be corrupted; a
 * connection may be dropped; a burst multiplies the update rate for a while.
 */
import { z } from 'zod';
import { seededRandom } from '../../../core/random.js';

export const faultPlanSchema = z.object({
  seed: z.number().int().default(1),
  /** Probability per book update of each fault. */
  gap: z.number().min(0).max(1).default(0),
  duplicate: z.number().min(0).max(1).default(0),
  reorder: z.number().min(0).max(1).default(0),
  /** Probability that a REST snapshot is one taken ~50 updates earlier. */
  staleSnapshot: z.number().min(0).max(1).default(0),
  /** Probability per Kraken book update that its checksum is wrong. */
  checksumCorruption: z.number().min(0).max(1).default(0),
  /** Probability per second that each connection is closed by the venue. */
  disconnectPerSecond: z.number().min(0).max(1).default(0),
  /** Probability per second of a burst: 10x the update rate for one second. */
  burstPerSecond: z.number().min(0).max(1).default(0),
});
export type FaultPlan = z.infer<typeof faultPlanSchema>;
export type FaultPlanInput = z.input<typeof faultPlanSchema>;

/** What to do with one outgoing update. */
export type Delivery = 'send' | 'drop' | 'duplicate' | 'hold';

export class FaultInjector {
  readonly plan: FaultPlan;
  private readonly random: () => number;
  /** Feed messages sent through this injector's streams (a benchmark's offered rate). */
  sent = 0;

  constructor(plan: FaultPlanInput = {}) {
    this.plan = faultPlanSchema.parse(plan);
    this.random = seededRandom(this.plan.seed);
  }

  delivery(): Delivery {
    const { gap, duplicate, reorder } = this.plan;
    if (gap + duplicate + reorder === 0) return 'send';
    const r = this.random();
    if (r < gap) return 'drop';
    if (r < gap + duplicate) return 'duplicate';
    if (r < gap + duplicate + reorder) return 'hold';
    return 'send';
  }

  chance(p: number): boolean {
    return p > 0 && this.random() < p;
  }
}

/**
 * Applies a delivery decision to an ordered stream of messages: `hold` keeps a message back and
 * sends it after the next one.
 */
export class FaultyStream {
  private held: string | null = null;

  private readonly send: (text: string) => void;

  constructor(private readonly faults: FaultInjector, send: (text: string) => void) {
    this.send = (text) => {
      faults.sent++;
      send(text);
    };
  }

  push(text: string): void {
    const d = this.faults.delivery();
    if (d === 'drop') return;
    if (d === 'hold' && this.held === null) {
      this.held = text;
      return;
    }
    this.send(text);
    if (d === 'duplicate') this.send(text);
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      this.send(h);
    }
  }

  /** Messages that are not book updates (trades, tickers) pass unharmed. */
  pass(text: string): void {
    this.send(text);
  }
}
