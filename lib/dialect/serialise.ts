// JSON for the wire, shared by every dialect: what cannot be sent says why, at accept time.

/** JSON.stringify that says why a value cannot be sent instead of throwing or giving `undefined`. */
export function serialise(v: unknown, what: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch (err) {
    throw new Error(`${what} cannot be sent as JSON: ${(err as Error).message}`);
  }
  if (s === undefined) throw new Error(`${what} cannot be sent as JSON: it serialises to nothing (a function, a Symbol, or a toJSON that returns undefined)`);
  return s;
}

/**
 * JSON of a finite number, as JSON.stringify writes it. A millisecond timestamp is past the
 * small integers that V8 prints fast (about 200 ns as a double, measured): as two of them it
 * costs a third of that, and it is the same digits.
 */
export function numberJson(n: number): string {
  if (n >= 1e6 && n < 9e15 && Math.floor(n) === n) {
    const hi = Math.floor(n / 1e6);
    const lo = String(n - hi * 1e6);
    return String(hi) + "000000".slice(lo.length) + lo;
  }
  return String(n);
}
