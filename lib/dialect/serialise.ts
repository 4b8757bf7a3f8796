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
