// A typed-input property (device name, profile…) resolved per msg. Plain strings are resolved
// once at deploy time: the per-msg path then costs nothing.
import type { Node, NodeAPI, NodeMessage } from "node-red";

export type Resolver = (msg: NodeMessage) => unknown;

export function property(RED: NodeAPI, node: Node, value: string | undefined, type: string | undefined): Resolver {
  const v = value ?? "";
  const t = type || "str";
  if (t === "str") return () => (v === "" ? undefined : v);
  // A blank msg property (the editor's defaults) means "not set here": the adapter reads its msg.<name> default.
  if (t === "msg" && v.trim() === "") return () => undefined;
  if (t === "msg" && /^[A-Za-z_$][\w$]*$/.test(v)) return (msg) => (msg as unknown as Record<string, unknown>)[v]; // msg.device: no path to parse per msg
  if (t === "msg") return (msg) => RED.util.getMessageProperty(msg, v);
  return (msg) => RED.util.evaluateNodeProperty(v, t, node, msg);
}

/** A positive number from an editor field, or the default when blank. */
export function numberOr(value: unknown, fallback: number): number {
  const n = typeof value === "string" ? (value.trim() === "" ? NaN : Number(value)) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) ? n : fallback;
}
