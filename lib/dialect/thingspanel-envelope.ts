// ThingsPanel's gateway envelope: {"gateway_data": …, "sub_device_data": {"<addr>": …},
// "sub_gateway_data": {"<addr>": <envelope>}}. A device is named by its path of sub-device
// addresses ("line-2/sensor_101": sensor_101 under the sub-gateway line-2); the empty path is the
// gateway itself. Entries are packed into as few envelopes as fit under the server's limit.
import { utf8Length } from "./json-batch";

/** One device's member of an envelope, serialised once. */
export interface EnvelopeEntry {
  /** Sub-device addresses from the gateway down; [] = the gateway itself. */
  path: readonly string[];
  json: string;
  /** Uplink indices this entry carries. */
  carries: number[];
}

interface Node {
  own?: string;
  subs: Map<string, string>;
  gateways: Map<string, Node>;
}

function node(): Node {
  return { subs: new Map(), gateways: new Map() };
}

function put(root: Node, e: EnvelopeEntry): void {
  let n = root;
  for (let i = 0; i < e.path.length - 1; i++) {
    let child = n.gateways.get(e.path[i]);
    if (!child) n.gateways.set(e.path[i], (child = node()));
    n = child;
  }
  if (e.path.length === 0) n.own = e.json;
  else n.subs.set(e.path[e.path.length - 1], e.json);
}

function serialise(n: Node): string {
  const parts: string[] = [];
  if (n.own !== undefined) parts.push(`"gateway_data":${n.own}`);
  if (n.subs.size > 0) parts.push(`"sub_device_data":{${[...n.subs].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`);
  if (n.gateways.size > 0) parts.push(`"sub_gateway_data":{${[...n.gateways].map(([k, v]) => `${JSON.stringify(k)}:${serialise(v)}`).join(",")}}`);
  return `{${parts.join(",")}}`;
}

/** The envelope holding `entries` (at most one per path). */
export function envelope(entries: readonly EnvelopeEntry[]): string {
  const root = node();
  for (const e of entries) put(root, e);
  return serialise(root);
}

/** An upper bound of the bytes an entry adds to an envelope (its keys and brackets at each level). */
function estimate(e: EnvelopeEntry): number {
  let n = utf8Length(e.json) + 20;
  for (const seg of e.path) n += utf8Length(seg) + 24;
  return n;
}

export interface Packed {
  payload: string;
  carries: number[];
}

/**
 * Packs entries (distinct paths) into envelopes of at most `room` bytes each, in order. An entry
 * that does not fit even alone is returned in `tooBig` with its size.
 */
export function pack(entries: readonly EnvelopeEntry[], room: number): { packed: Packed[]; tooBig: Array<{ entry: EnvelopeEntry; bytes: number }> } {
  const packed: Packed[] = [];
  const tooBig: Array<{ entry: EnvelopeEntry; bytes: number }> = [];
  const emit = (group: EnvelopeEntry[]): void => {
    if (group.length === 0) return;
    const payload = envelope(group);
    if (utf8Length(payload) <= room) {
      const carries: number[] = [];
      for (const e of group) for (const i of e.carries) if (!carries.includes(i)) carries.push(i);
      packed.push({ payload, carries });
      return;
    }
    if (group.length === 1) return void tooBig.push({ entry: group[0], bytes: utf8Length(payload) });
    const half = Math.ceil(group.length / 2);
    emit(group.slice(0, half));
    emit(group.slice(half));
  };
  let group: EnvelopeEntry[] = [];
  let size = 2;
  for (const e of entries) {
    const bytes = estimate(e);
    if (group.length > 0 && size + bytes > room) {
      emit(group);
      group = [];
      size = 2;
    }
    group.push(e);
    size += bytes;
  }
  emit(group);
  return { packed, tooBig };
}
