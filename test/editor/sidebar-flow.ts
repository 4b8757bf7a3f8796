// The flow the sidebar test and the README's screenshot run: plant A on the emulator (a meter's
// readings, a msg with an empty key, an rpc-in that leaves RPCs open), plant B on a server it
// cannot reach (what it sends waits).
export const SIDEBAR_TYPES = ["gateway-config", "telemetry-out", "device-connect", "rpc-in"];

export function flow(url: string): object[] {
  return [
    { id: "t1", type: "tab", label: "sidebar" },
    { id: "gwA", type: "gateway-config", name: "plant A", platform: "thingsboard", url, auth: "token", protocolVersion: "4", qos: "1", reconnectMin: 0.2, reconnectMax: 1 },
    { id: "gwB", type: "gateway-config", name: "plant B", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1", reconnectMin: 0.2, reconnectMax: 1 },
    { id: "injA", type: "inject", z: "t1", x: 120, y: 80, name: "reading", props: [{ p: "payload", v: '{"temperature": 21.5, "humidity": 40}', vt: "json" }, { p: "device", v: "Meter 1", vt: "str" }], repeat: "", once: false, wires: [["toA"]] },
    { id: "injA2", type: "inject", z: "t1", x: 120, y: 200, name: "reading 2", props: [{ p: "payload", v: '{"temperature": 19.0}', vt: "json" }, { p: "device", v: "Meter 2", vt: "str" }], repeat: "", once: false, wires: [["toA"]] },
    // a reading of 12 more meters at once (many devices: the tab lists the first ones and a count)
    { id: "injMany", type: "inject", z: "t1", x: 120, y: 380, name: "12 meters", props: [{ p: "payload", v: "", vt: "date" }], repeat: "", once: false, wires: [["fnMany"]] },
    { id: "fnMany", type: "function", z: "t1", x: 300, y: 380, name: "one msg each", func: "return [Array.from({ length: 12 }, (_, i) => ({ device: 'Meter ' + (i + 10), payload: { temperature: 20 + i } }))];", outputs: 1, wires: [["toA"]] },
    { id: "injBad", type: "inject", z: "t1", x: 120, y: 140, name: "an empty key", props: [{ p: "payload", v: '{"": 1}', vt: "json" }, { p: "device", v: "Meter 1", vt: "str" }], repeat: "", once: false, wires: [["toA"]] },
    { id: "toA", type: "telemetry-out", z: "t1", x: 360, y: 100, name: "meter A", gateway: "gwA", device: "device", deviceType: "msg", profile: "meter", profileType: "str", autoConnect: true, wires: [] },
    { id: "rpcA", type: "rpc-in", z: "t1", x: 140, y: 320, name: "commands", gateway: "gwA", target: "devices", devices: "", methods: "", autoAnswer: "", timeout: "120", wires: [[]] },
    // telemetry for plant B, which cannot reach its server: it waits in the outbox
    { id: "injB", type: "inject", z: "t1", x: 120, y: 260, name: "reading B", props: [{ p: "payload", v: '{"t": 1}', vt: "json" }, { p: "device", v: "Pump B", vt: "str" }], repeat: "", once: false, wires: [["toB"]] },
    { id: "toB", type: "telemetry-out", z: "t1", x: 360, y: 260, name: "pump B values", gateway: "gwB", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    { id: "dcB", type: "device-connect", z: "t1", x: 360, y: 180, name: "pump B", gateway: "gwB", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [[]] },
  ];
}
