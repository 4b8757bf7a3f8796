// The flows under test. Both throughput flows start with the same bench-source and have a
// catch node that counts errors (it costs nothing while there are none).
export type FlowNode = Record<string, unknown> & { id: string; type: string };

const TAB: FlowNode = { id: "bench", type: "tab", label: "bench" };

function at(n: number): { x: number; y: number; z: string } {
  return { x: 150 + 200 * n, y: 100, z: "bench" };
}

function errorsToSink(scope: string[]): FlowNode[] {
  return [
    { id: "catch", type: "catch", scope, uncaught: false, wires: [["errors"]], ...at(0), y: 200 },
    { id: "errors", type: "bench-sink", wires: [], ...at(1), y: 200 },
  ];
}

/** gateway-config as the editor creates it (defaults of gateway-config.html), pointed at `url`. */
export function gatewayConfig(url: string): FlowNode {
  return {
    id: "gw",
    type: "gateway-config",
    name: "",
    platform: "thingsboard",
    url,
    auth: "token",
    clientId: "",
    protocolVersion: "4",
    keepalive: 60,
    qos: "1",
    tls: "",
    reconnectMin: 1,
    reconnectMax: 60,
    batchWindow: 20,
    maxPayload: 65536,
    maxQueued: 100000,
    overflow: "reject",
  };
}

export const GATEWAY_CREDENTIALS = { gw: { token: "bench-gateway" } };

/** (a) bench-source → telemetry-out. */
export function telemetryOutFlow(url: string): FlowNode[] {
  return [
    TAB,
    { id: "src", type: "bench-source", wires: [["tel"]], ...at(0) },
    { id: "tel", type: "telemetry-out", name: "", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [], ...at(1) },
    ...errorsToSink(["tel"]),
    gatewayConfig(url),
  ];
}

/** The RSS and store flow: (a), whose done msgs the host counts (Node-RED's onComplete hook, bench/host.ts). */
export function telemetryOutCountedFlow(url: string): FlowNode[] {
  return telemetryOutFlow(url);
}

/** (a) with these gateway-config settings (the store, its bounds) over the editor's defaults. */
export function telemetryOutFlowWith(url: string, gateway: Record<string, unknown>): FlowNode[] {
  return telemetryOutCountedFlow(url).map((n) => (n.id === "gw" ? { ...n, ...gateway } : n));
}

/** The floor: bench-source → a node that only counts. What Node-RED itself costs per msg. */
export function floorFlow(): FlowNode[] {
  return [TAB, { id: "src", type: "bench-source", wires: [["done"]], ...at(0) }, { id: "done", type: "bench-sink", wires: [], ...at(1) }];
}

/** The floor of (a): bench-source → the least gateway node (bench/floor-nodes.ts); `dir`: it writes to disk there. */
export function leastGatewayFlow(url: string, dir = "", doneAt: "puback" | "accept" = "puback"): FlowNode[] {
  return [TAB, { id: "src", type: "bench-source", wires: [["tel"]], ...at(0) }, { id: "tel", type: "bench-least-gateway", url, dir, doneAt, wires: [], ...at(1) }];
}

export const GATEWAY_FUNCTION = [
  "msg.payload = { [msg.device]: [{ ts: msg.ts, values: msg.payload }] };",
  'msg.topic = "v1/gateway/telemetry";',
  "return msg;",
].join("\n");

/** (b) bench-source → function (gateway payload per msg) → core mqtt out, QoS 1. */
export function mqttOutFlow(port: number): FlowNode[] {
  return [
    TAB,
    { id: "src", type: "bench-source", wires: [["fn"]], ...at(0) },
    { id: "fn", type: "function", name: "gateway payload", func: GATEWAY_FUNCTION, outputs: 1, timeout: 0, noerr: 0, initialize: "", finalize: "", libs: [], wires: [["out"]], ...at(1) },
    { id: "out", type: "mqtt out", name: "", topic: "", qos: "1", retain: "false", respTopic: "", contentType: "", userProps: "", correl: "", expiry: "", broker: "broker", wires: [], ...at(2) },
    ...errorsToSink(["fn", "out"]),
    {
      id: "broker",
      type: "mqtt-broker",
      name: "",
      broker: "127.0.0.1",
      port: String(port),
      clientid: "",
      autoConnect: true,
      usetls: false,
      protocolVersion: "4",
      keepalive: "60",
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: "",
      birthQos: "0",
      birthPayload: "",
      birthMsg: {},
      closeTopic: "",
      closeQos: "0",
      closePayload: "",
      closeMsg: {},
      willTopic: "",
      willQos: "0",
      willPayload: "",
      willMsg: {},
      userProps: "",
      sessionExpiry: "",
    },
  ];
}
