// ThingsBoard answers an attribute request with a bare "value" (no key) whenever exactly one
// attribute of a scope was found, and with "values" {key: value} otherwise. A bare value is
// named by the request only when one key was asked; for several keys the session asks again,
// key by key; for "all keys" it cannot be named at all.
import type { Value, Values } from "../records";

export interface AttributeAnswer {
  values?: Values;
  value?: Value;
}

export interface NamedAnswer {
  values: Values;
  /** The server sent a value without its key that the request cannot name. */
  unnamed: boolean;
}

export function nameAnswer(keys: readonly string[], r: AttributeAnswer): NamedAnswer {
  const values: Values = { ...(r.values ?? {}) };
  const bare = "value" in r && r.value !== undefined;
  if (!bare) return { values, unnamed: false };
  if (keys.length === 1) return { values: { ...values, [keys[0]]: r.value as Value }, unnamed: false };
  return { values, unnamed: true };
}
