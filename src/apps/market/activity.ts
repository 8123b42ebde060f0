/**
 * @module apps/market/activity
 * Whether anyone is watching the market: hub subscriptions to `market` channels (a market page
 * open anywhere holds some), counted through the namespace's onSubscribe/onUnsubscribe hooks
 * (a closed connection unsubscribes everything it held). The app slows the embedded simulator to
 * its idle rate while nobody watches, and puts it back when the first client subscribes
 * (index.ts). Each subscription is counted by client and channel, so an unsubscribe the hub
 * reports for a subscription that never completed (its history read failed) cannot go negative.
 */
import type { NamespaceHooks } from '../../hub/namespace.js';

export class MarketActivity {
  private readonly watching = new Set<string>();
  /** Called on every change between nobody watching and someone watching. */
  onChange: ((watched: boolean) => void) | null = null;

  readonly hooks: NamespaceHooks = {
    onSubscribe: ({ client, channel }) => {
      const was = this.watched;
      this.watching.add(`${client} ${channel}`);
      if (!was) this.onChange?.(true);
    },
    onUnsubscribe: ({ client, channel }) => {
      if (this.watching.delete(`${client} ${channel}`) && !this.watched) this.onChange?.(false);
    },
  };

  get watched(): boolean {
    return this.watching.size > 0;
  }

  /** Market subscriptions open now. */
  get subscriptions(): number {
    return this.watching.size;
  }
}
