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

/** `"key":` by key, for the keys of flat values (a gateway's keys are few and repeat in every msg). */
const keyJson = new Map<string, string>();
const MAX_KEYS = 4096;

/** Own keys of the values `flatJson` wrote last: its other result, without an object per call. */
export let flatKeys = 0;

/**
 * JSON.stringify of `{key: value}` whose values are all finite numbers, booleans or null (most
 * telemetry), or undefined for anything else (the caller then serialises it as before). The
 * same text: the own keys in their order, each key's JSON kept, numbers as JSON writes them;
 * without JSON.stringify's cost per call (about 120 ns, as much as the two values of a point).
 */
export function flatJson(values: object): string | undefined {
  let s = "{";
  let n = 0;
  const v = values as Record<string, unknown>;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    const x = v[k];
    let j: string;
    if (typeof x === "number") {
      if (!Number.isFinite(x)) return undefined;
      j = numberJson(x);
    } else if (typeof x === "boolean") j = x ? "true" : "false";
    else if (x === null) j = "null";
    else return undefined;
    let kj = keyJson.get(k);
    if (kj === undefined) {
      if (keyJson.size >= MAX_KEYS) keyJson.clear();
      keyJson.set(k, (kj = JSON.stringify(k) + ":"));
    }
    s += (n++ > 0 ? "," : "") + kj + j;
  }
  flatKeys = n;
  return s + "}";
}
