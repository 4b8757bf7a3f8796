// ThingsBoard answers an attribute request with a bare "value" (no key) whenever exactly one
// attribute of a scope was found, and with "values" {key: value} otherwise. A bare value is
// named by the request only when one key was asked; for several keys the session asks again,
// key by key; for "all keys" it cannot be named at all.
import type { AttributeScope, Downlink, Uplink, Value, Values } from "../records";
import { PendingRequests } from "./requests";

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

type AttributeResponse = Downlink & { kind: "attributeResponse" };

export interface AttributeRequestHost {
  send(uplink: Uplink): Promise<void>;
  warn(message: string): void;
}

/**
 * The attribute requests waiting for the platform's answer. An answer is matched by its id and
 * its device: a response naming another device is not the answer, whatever its id.
 */
export class AttributeRequests {
  private readonly pending = new PendingRequests<AttributeResponse>();
  /** The device each request asked about. */
  private readonly devices = new Map<number, string>();

  constructor(private readonly host: AttributeRequestHost) {}

  get size(): number {
    return this.pending.size;
  }

  /** Asks for attribute values of `device` (its platform name); resolves to {key: value} (empty keys = all). */
  async request(device: string, scope: AttributeScope, keys: string[], timeoutMs: number): Promise<Values> {
    const { id, answer } = this.pending.open(timeoutMs, () => `attribute request for "${device}"`);
    this.devices.set(id, device);
    const settled = answer.finally(() => this.devices.delete(id));
    this.host.send({ kind: "attributeRequest", device, id, scope, keys }).catch((err: Error) => this.pending.fail(id, err));
    const named = nameAnswer(keys, await settled);
    if (!named.unnamed) return named.values;
    if (keys.length === 0) {
      this.host.warn(`the server answered an all-keys request for "${device}" with a value without its key (a scope with exactly one attribute): ask for it by name`);
      return named.values;
    }
    const missing = keys.filter((k) => !(k in named.values));
    const each = await Promise.all(missing.map((k) => this.request(device, scope, [k], timeoutMs)));
    return Object.assign({}, named.values, ...each) as Values;
  }

  /** A response from the platform: settles its request, or is ignored with a warning. */
  answer(d: AttributeResponse): void {
    const asked = this.devices.get(d.id);
    if (asked !== undefined && asked !== d.device) return this.host.warn(`ignored an attribute response for "${d.device}": request ${d.id} asked about "${asked}"`);
    if (!this.pending.settle(d.id, d)) this.host.warn(`ignored an attribute response for unknown request ${d.id}`);
  }

  failAll(err: Error): void {
    this.pending.failAll(err);
  }
}
