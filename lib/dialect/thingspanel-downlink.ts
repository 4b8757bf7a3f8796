// What ThingsPanel sends a gateway, read into typed records. Every downlink is an envelope
// addressed by the gateway's device number in the topic; its members are walked down to the
// devices they name ("line-2/sensor_101"), to the backend's nesting depth.
import type { Downlink, Values } from "../records";

/** The backend processes nested sub-gateways to this depth (a device path has at most this many addresses). */
export const MAX_DEPTH = 5;

/** The method name under which telemetry control (values to set) reaches rpc-in. */
export const CONTROL_METHOD = "telemetry_control";

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface Member {
  /** The device path ("" = the gateway itself). */
  device: string;
  value: unknown;
}

/** Every member of an envelope, depth first; a string says what is malformed. */
export function members(env: unknown, prefix = "", depth = 0): Member[] | string {
  if (!isObject(env)) return "expected an envelope object";
  const out: Member[] = [];
  if ("gateway_data" in env) out.push({ device: prefix.replace(/\/$/, ""), value: env.gateway_data });
  const subs = env.sub_device_data;
  if (subs !== undefined) {
    if (!isObject(subs)) return '"sub_device_data" must be an object';
    for (const [addr, value] of Object.entries(subs)) out.push({ device: prefix + addr, value });
  }
  const gws = env.sub_gateway_data;
  if (gws !== undefined) {
    if (!isObject(gws)) return '"sub_gateway_data" must be an object';
    if (depth + 1 >= MAX_DEPTH) return `sub-gateways nested deeper than ${MAX_DEPTH}`;
    for (const [addr, inner] of Object.entries(gws)) {
      const m = members(inner, prefix + addr + "/", depth + 1);
      if (typeof m === "string") return m;
      out.push(...m);
    }
  }
  return out;
}

/** Commands: one RPC per addressed device, all under `id`. */
export function commandParts(ms: Member[], id: number): Downlink[] | string {
  const parts: Downlink[] = [];
  for (const m of ms) {
    if (!isObject(m.value) || typeof m.value.method !== "string" || m.value.method === "") return `${m.device || "gateway_data"}: expected {"method", "params"}`;
    const { method, params } = m.value;
    parts.push(m.device === "" ? { kind: "gatewayRpcRequest", id, method, params } : { kind: "rpcRequest", device: m.device, id, method, params });
  }
  return parts;
}

/** Telemetry control: values to set, as an RPC of CONTROL_METHOD per device (no answer goes back). */
export function controlParts(ms: Member[], id: number): Downlink[] | string {
  const parts: Downlink[] = [];
  for (const m of ms) {
    if (!isObject(m.value)) return `${m.device || "gateway_data"}: expected an object of values`;
    const params = m.value;
    parts.push(m.device === "" ? { kind: "gatewayRpcRequest", id, method: CONTROL_METHOD, params } : { kind: "rpcRequest", device: m.device, id, method: CONTROL_METHOD, params });
  }
  return parts;
}

/**
 * Attribute sets: an attribute update per sub-device. The gateway's own (gateway_data) has no
 * record yet that attribute-in routes: the answer says so (result 1), the sub-devices' are delivered.
 */
export function attributeSetParts(ms: Member[]): Downlink[] | string {
  const parts: Downlink[] = [];
  for (const m of ms) {
    if (!isObject(m.value)) return `${m.device || "gateway_data"}: expected an object of attributes`;
    if (m.device !== "") parts.push({ kind: "attributeUpdate", device: m.device, values: m.value as Values, deleted: [] });
  }
  return parts;
}

/** Attribute queries: the keys asked per device; an empty list asks for all. */
export function attributeQueryParts(ms: Member[]): Downlink[] | string {
  const parts: Downlink[] = [];
  for (const m of ms) {
    if (!Array.isArray(m.value) || m.value.some((k) => typeof k !== "string")) return `${m.device || "gateway_data"}: expected a list of attribute keys`;
    const keys = m.value as string[];
    parts.push(m.device === "" ? { kind: "attributeQuery", keys } : { kind: "attributeQuery", device: m.device, keys });
  }
  return parts;
}

/** The ack object {"result": 0|1, "errcode"?, "message"?}: the failure text, or undefined on success. */
export function ackError(body: unknown): string | undefined | null {
  if (!isObject(body) || (body.result !== 0 && body.result !== 1)) return null;
  if (body.result === 0) return undefined;
  const code = typeof body.errcode === "string" && body.errcode !== "" ? body.errcode : undefined;
  const message = typeof body.message === "string" && body.message !== "" ? body.message : undefined;
  return code && message && code !== message ? `${code}: ${message}` : (code ?? message ?? "failed");
}
