// A real Node-RED runtime (node-red-node-test-helper) loading this package's nodes.
import { waitFor } from "../../emulator/poll";
import helper from "node-red-node-test-helper";

helper.init(require.resolve("node-red"));

export { helper };

export type FlowNode = Record<string, unknown> & { id: string; type: string };

/** Every node type of the package, as Node-RED would load them. */
export const nodes = {
  gatewayConfig: require("../../nodes/gateway-config"),
  deviceConnect: require("../../nodes/device-connect"),
  telemetryOut: require("../../nodes/telemetry-out"),
  attributeOut: require("../../nodes/attribute-out"),
  attributeIn: require("../../nodes/attribute-in"),
  rpcIn: require("../../nodes/rpc-in"),
  rpcResponse: require("../../nodes/rpc-response"),
  rpcRequest: require("../../nodes/rpc-request"),
  claim: require("../../nodes/claim"),
  modbusConnection: require("../../nodes/modbus-connection"),
  modbusSource: require("../../nodes/modbus-source"),
};

export function gatewayNode(url: string, extra: Record<string, unknown> = {}): FlowNode {
  return { id: "gw", type: "gateway-config", platform: "thingsboard", url, auth: "token", protocolVersion: "4", qos: "1", keepalive: 60, reconnectMin: 0.2, reconnectMax: 1, batchWindow: 5, maxPayload: 65536, maxQueued: 100000, overflow: "reject", ...extra };
}

/** Loads a flow: nodes other than config nodes go on one tab (Node-RED tells them apart by x/y). */
export function load(flow: FlowNode[], credentials: Record<string, unknown> = { gw: { token: "GATEWAY_TOKEN" } }): Promise<void> {
  const onTab = flow.map((n) => (n.z || CONFIG_TYPES.has(n.type) || n.type === "tab" ? n : { x: 100, y: 100, ...n, z: "flow" }));
  const withTab = onTab.some((n) => n.z === "flow") ? [{ id: "flow", type: "tab", label: "test" }, ...onTab] : onTab;
  return new Promise((resolve, reject) => helper.load(Object.values(nodes), withTab, credentials, (err?: Error) => (err ? reject(err) : resolve())));
}

const CONFIG_TYPES = new Set(["gateway-config", "tls-config", "modbus-connection"]);

/** Resolves with the next msg a helper node receives. */
export function nextMsg(id: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const n = helper.getNode(id);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no msg at ${id} within ${timeoutMs} ms`)), timeoutMs);
    n.once("input", (msg: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Collects every msg a helper node receives. */
export function collect(id: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  helper.getNode(id).on("input", (msg: Record<string, unknown>) => out.push(msg));
  return out;
}

/** Polls `probe` every 10 ms until it returns something truthy (the emulators' own waitFor). */
export const until = waitFor;
