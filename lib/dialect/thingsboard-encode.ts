// ThingsBoard's uplinks on the wire: each uplink serialised once when it is accepted (prepare, in
// thingsboard-prepare.ts), then batches of them merged into as few publishes as the server takes
// (encode): under its packet limit (remaining length) and under what its rate limits let one
// publish carry, counted as the server counts them: per device of a publish one message;
// telemetry and attributes draw telemetryMessages plus their key-value pairs from
// telemetryDataPoints, everything else draws from messages, and the gateway's own v1/devices/me
// traffic from its own buckets.
import type { PublishCaps, PublishCost, Uplink } from "../records";
import type { EncodeExtras, Encoded, Prepared, Publish, Refusal } from "./types";
import { JsonBatch, memberOverhead, utf8Length, type Key, type Member, type MemberShape } from "./json-batch";
import { T } from "./thingsboard-topics";
import { OnePoint } from "./one-point";
import { prepare } from "./thingsboard-prepare";

export { prepare } from "./thingsboard-prepare";

type Mergeable = "telemetry" | "attributes" | "claim";
const SHAPES: Record<Mergeable, MemberShape> = { telemetry: "array", attributes: "object", claim: "value" };
const UNLIMITED: PublishCaps = { messages: Infinity, telemetryMessages: Infinity, telemetryDataPoints: Infinity };
const FREE: PublishCost = { own: false, messages: 0, telemetryMessages: 0, dataPoints: 0 };

function isMergeable(kind: Uplink["kind"]): kind is Mergeable {
  return kind === "telemetry" || kind === "attributes" || kind === "claim";
}

function topicOf(u: Uplink): string {
  switch (u.kind) {
    case "gatewayRpcRequest":
      return T.meRpcRequest + u.id;
    case "gatewayRpcResponse":
      return T.meRpcResponse + u.id;
    case "rpcResponse":
      return T.rpc;
    case "gatewayTelemetry":
      return T.meTelemetry;
    case "gatewayAttributes":
      return T.meAttributes;
    default:
      return T[u.kind as keyof typeof T];
  }
}

function singleCost(u: Uplink, p: Prepared): PublishCost {
  switch (u.kind) {
    case "gatewayTelemetry":
    case "gatewayAttributes":
      return { own: true, messages: 0, telemetryMessages: 1, dataPoints: p.points?.[0] ?? 0 };
    case "connect":
      return FREE; // the server charges no rate limit for an announcement
    case "gatewayRpcRequest":
    case "gatewayRpcResponse":
      return { own: true, messages: 1, telemetryMessages: 0, dataPoints: 0 };
    default:
      return { own: false, messages: 1, telemetryMessages: 0, dataPoints: 0 };
  }
}

function mergedCost(kind: Mergeable, b: JsonBatch): PublishCost {
  return kind === "claim"
    ? { own: false, messages: b.devices, telemetryMessages: 0, dataPoints: 0 }
    : { own: false, messages: 0, telemetryMessages: b.devices, dataPoints: b.dataPoints };
}

/** Whether one more part (for `device`, with `points`) keeps the publish within the rate caps. */
function withinCaps(kind: Mergeable, b: JsonBatch, known: boolean, points: number, caps: PublishCaps): boolean {
  const devices = b.devices + (known ? 0 : 1);
  if (kind === "claim") return devices <= caps.messages;
  return devices <= caps.telemetryMessages && b.dataPoints + points <= caps.telemetryDataPoints;
}

export function encode(batch: readonly Uplink[], maxPacket: number, propertiesBytes = 0, extras: EncodeExtras = {}): Encoded {
  // The server counts the packet's remaining length: the payload gets what the topic
  // (2-byte length + UTF-8), the packet id (2) and the MQTT 5 properties leave of it.
  const rooms = new Map<string, number>(); // per topic, measured once per encode (not once per uplink)
  const room = (topic: string): number => {
    let r = rooms.get(topic);
    if (r === undefined) rooms.set(topic, (r = maxPacket - (2 + utf8Length(topic) + 2 + propertiesBytes)));
    return r;
  };
  const caps = extras.caps ?? UNLIMITED;
  const slots: Array<Publish | { kind: Mergeable; batch: JsonBatch }> = [];
  const open: Partial<Record<Mergeable, { batch: JsonBatch; pos: number }>> = {};
  // Per device, one lookup per uplink: its key (serialised once per encode), its members in the
  // open publishes, and the position of the latest publish that carries it: a merged publish
  // placed before that must not take the device's later uplinks, or they would overtake it.
  const devices = new Map<string, DeviceSlot>();
  const refused: Refusal[] = [];
  // Announcements moved up, by the position of the publish they follow (-1: before all).
  const follow = new Map<number, Publish[]>();
  let lastSingle = -1;

  for (let index = 0; index < batch.length; index++) {
    const u = batch[index];
    let p = extras.prepared?.[index];
    if (!p) {
      try {
        p = prepare(u);
      } catch (err) {
        refused.push({ index, reason: (err as Error).message });
        continue;
      }
    }
    if (!isMergeable(u.kind)) {
      const topic = topicOf(u);
      if (p.bytes[0] > room(topic)) {
        refused.push({ index, reason: `the message is ${p.bytes[0]} bytes, over the server's limit of ${maxPacket} bytes per packet with its topic` });
        continue;
      }
      const publish: Publish = { topic, payload: Buffer.from(p.json[0]), carries: [index], cost: singleCost(u, p) };
      if (u.kind === "connect" && !devices.has(u.device)) {
        // A device's first uplink here, its announcement: it goes right after the latest publish
        // that is not merged, before the merged ones opened since (nothing of the device is among
        // them), not between them, where it would split them (100 new devices: 100 publishes more).
        let list = follow.get(lastSingle);
        if (!list) follow.set(lastSingle, (list = []));
        list.push(publish);
        slotOf(devices, u.device).lastPos = lastSingle;
        continue;
      }
      slots.push(publish);
      lastSingle = slots.length - 1;
      if ("device" in u) slotOf(devices, u.device).lastPos = lastSingle;
      continue;
    }
    const kind = u.kind;
    const shape = SHAPES[kind];
    const device = (u as { device: string }).device;
    const d = slotOf(devices, device);
    const key = (d.key ??= keyOf(device));
    // A piece that does not fit even alone refuses the whole uplink, before any of it is placed.
    const maxPayload = room(T[kind]);
    const alone = 2 + memberOverhead(shape, key, true);
    const problem = tooBig(kind, p, alone, maxPayload, maxPacket, caps);
    if (problem) {
      refused.push({ index, reason: problem });
      continue;
    }
    const after = d.lastPos;
    let o = open[kind];
    const one = p instanceof OnePoint ? p : undefined;
    const pieces = one ? 1 : p.json.length;
    for (let i = 0; i < pieces; i++) {
      const points = one ? one.total : (p.points?.[i] ?? 0);
      const bytes = one ? one.size : p.bytes[i];
      let m = d[kind];
      if (m && (!o || m.batch !== o.batch)) m = undefined;
      if (!o || o.pos < after || o.batch.sizeWith(m, key, bytes) > maxPayload || !withinCaps(kind, o.batch, m !== undefined, points, caps)) {
        o = { batch: new JsonBatch(T[kind], shape), pos: slots.length };
        slots.push({ kind, batch: o.batch });
        open[kind] = o;
        m = undefined;
      }
      d[kind] = o.batch.add(m, key, one ? one.text : p.json[i], bytes, one ? undefined : p.fields?.[i], points);
      o.batch.carry(index);
    }
    if (o) d.lastPos = o.pos;
  }

  const publishes: Publish[] = follow.get(-1) ?? [];
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    publishes.push("batch" in s ? { topic: s.batch.topic, payload: s.batch.toBuffer(), carries: s.batch.carries, cost: mergedCost(s.kind, s.batch) } : s);
    const after = follow.get(i);
    if (after) for (const a of after) publishes.push(a);
  }
  return { publishes, refused };
}

/** A device's state during one encode. */
interface DeviceSlot {
  key: Key | undefined;
  /** Position of the latest publish that carries the device (-1: none yet). */
  lastPos: number;
  telemetry: Member | undefined;
  attributes: Member | undefined;
  claim: Member | undefined;
}

function slotOf(devices: Map<string, DeviceSlot>, device: string): DeviceSlot {
  let d = devices.get(device);
  if (!d) devices.set(device, (d = { key: undefined, lastPos: -1, telemetry: undefined, attributes: undefined, claim: undefined }));
  return d;
}

function keyOf(device: string): Key {
  const k = JSON.stringify(device);
  return { json: k, bytes: utf8Length(k) };
}

/** Why one piece of the uplink cannot go even alone in a publish, or null. */
function tooBig(kind: Mergeable, p: Prepared, alone: number, maxPayload: number, maxPacket: number, caps: PublishCaps): string | null {
  const what = kind === "telemetry" ? "point" : "value";
  const one = p instanceof OnePoint ? p : undefined;
  const pieces = one ? 1 : p.json.length;
  for (let i = 0; i < pieces; i++) {
    const bytes = one ? one.size : p.bytes[i];
    if (alone + bytes > maxPayload) return `one ${what} is ${bytes} bytes, over the server's limit of ${maxPacket} bytes per packet with its topic`;
    const points = one ? one.total : (p.points?.[i] ?? 0);
    if (points > caps.telemetryDataPoints) {
      return `one ${what} has ${points} data points, more than one message may carry under the server's rate limit (at most ${caps.telemetryDataPoints}: 80 % of its telemetryDataPoints capacity)`;
    }
  }
  return null;
}
