/**
 * @module apps/market/symbols
 * Symbol specs from configuration: the built-in markets keep their precision; any other
 * `BASE-QUOTE` gets 2 price and 8 quantity decimals (real venues' values should be configured
 * per symbol before Kraken checksums can match for them).
 */
import { DEFAULT_SYMBOLS, type SymbolSpec } from './types.js';

export function symbolSpecs(list: string): SymbolSpec[] {
  return list.split(',').map((symbol, i) => {
    const known = DEFAULT_SYMBOLS.find((s) => s.symbol === symbol);
    if (known) return known;
    const [base, quote] = symbol.split('-');
    return { symbol, base, quote, pricePrecision: 2, qtyPrecision: 8, startPrice: 100 + i * 10 };
  });
}
