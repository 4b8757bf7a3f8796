// What the dialogs test does to each node's edit dialog: a flow with one node of every type, and
// for every property of every type the new value a user enters, how it is entered, and on which
// tab it lives. A property missing here fails the test, so a new field cannot go untested.
export type Kind = "text" | "select" | "check" | "typed";

export interface FieldChange {
  field: string;
  kind: Kind;
  value: string | boolean;
  /** for typed inputs: the type chosen */
  type?: string;
  /** the tab (its content element id) the field lives on */
  tab?: string;
  /** a credential: saved to flows_cred.json, not flows.json */
  credential?: boolean;
  /** what the dialog must show before the change (checked when given) */
  before?: string | boolean;
  /** how the saved value is compared when it differs from the entered one */
  saved?: unknown;
}

export interface DialogSpec {
  id: string;
  type: string;
  config: boolean;
  /** the dialog's tabs, by content element id, in order */
  tabs?: string[];
  /** the element the dialog builds its tabs in */
  tabSet?: string;
  changes: FieldChange[];
  /** properties this test leaves to another (named) test */
  elsewhere?: Record<string, string>;
}

const at = (i: number) => ({ x: 160 + (i % 3) * 320, y: 80 + Math.floor(i / 3) * 120 });

export const FLOW: Array<Record<string, unknown>> = [
  { id: "t1", type: "tab", label: "dialogs" },
  { id: "gw1", type: "gateway-config", name: "first", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1", keepalive: 60, reconnectMin: 1, reconnectMax: 60, batchWindow: 20, maxPayload: 65536, maxQueued: 100000, overflow: "reject" },
  { id: "gw2", type: "gateway-config", name: "second", platform: "thingsboard", url: "mqtt://127.0.0.1:2", auth: "token", protocolVersion: "4", qos: "1" },
  { id: "tls1", type: "tls-config", name: "my tls", verifyservercert: true },
  { id: "mbc1", type: "modbus-connection", name: "line 1", transport: "tcp", host: "127.0.0.1", port: 1, timeout: 500, retries: 0 },
  { id: "mbc2", type: "modbus-connection", name: "line 2", transport: "tcp", host: "127.0.0.1", port: 2, timeout: 500, retries: 0 },
  { id: "dc", type: "device-connect", z: "t1", ...at(0), name: "", gateway: "gw1", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [[]] },
  { id: "to", type: "telemetry-out", z: "t1", ...at(1), name: "", gateway: "gw1", device: "", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
  { id: "ao", type: "attribute-out", z: "t1", ...at(2), name: "", gateway: "gw1", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
  { id: "ai", type: "attribute-in", z: "t1", ...at(3), name: "", gateway: "gw1", updates: true, devices: "", fetchOnConnect: false, device: "device", deviceType: "msg", keys: "", scope: "shared", timeout: "20", wires: [[]] },
  { id: "ri", type: "rpc-in", z: "t1", ...at(4), name: "", gateway: "gw1", target: "devices", devices: "", methods: "", autoAnswer: "", timeout: "60", wires: [[]] },
  { id: "rr", type: "rpc-response", z: "t1", ...at(5), name: "", gateway: "gw1", wires: [] },
  { id: "rq", type: "rpc-request", z: "t1", ...at(9), name: "", gateway: "gw1", method: "", params: "payload", paramsType: "msg", timeout: 10, wires: [[]] },
  { id: "cl", type: "claim", z: "t1", ...at(6), name: "", gateway: "gw1", device: "device", deviceType: "msg", secretKey: "secretKey", secretKeyType: "msg", duration: "durationMs", durationType: "msg", wires: [] },
  { id: "eo", type: "event-out", z: "t1", ...at(8), name: "", gateway: "gw1", target: "device", device: "device", deviceType: "msg", method: "method", methodType: "msg", wires: [] },
  {
    id: "ms", type: "modbus-source", z: "t1", ...at(7), name: "", connection: "mbc1", device: "Boiler 1", profile: "Boiler", unitId: 1, period: 5, reportMode: "every-poll",
    deadband: "", reportPeriod: "", maxGap: "", maxRegisters: "", disconnectAfter: 0, map: [{ key: "temperature", area: "holding", address: 0, type: "float32" }], wires: [[], [], [], []],
  },
];

const name = (v: string): FieldChange => ({ field: "name", kind: "text", value: v });
const gateway: FieldChange = { field: "gateway", kind: "select", value: "gw2" };
const typed = (field: string, type: string, value: string): FieldChange => ({ field, kind: "typed", type, value });

export const DIALOGS: DialogSpec[] = [
  {
    id: "gw1", type: "gateway-config", config: true, tabSet: "node-config-gw-tabs", tabs: ["gw-tab-connection", "gw-tab-delivery"],
    changes: [
      name("plant gateway"),
      // ThingsPanel first, so its rows are visible while typed; then back to ThingsBoard
      { field: "platform", kind: "select", value: "thingspanel", tab: "gw-tab-connection" },
      { field: "deviceNumber", kind: "text", value: "gw-0042", tab: "gw-tab-connection" },
      { field: "ackTimeout", kind: "text", value: "15", tab: "gw-tab-connection" },
      // Watson IoT's identity rows, likewise
      { field: "platform", kind: "select", value: "watson", tab: "gw-tab-connection" },
      { field: "watsonOrg", kind: "text", value: "abc123", tab: "gw-tab-connection" },
      { field: "watsonType", kind: "text", value: "gw-type", tab: "gw-tab-connection" },
      { field: "watsonId", kind: "text", value: "gw-7", tab: "gw-tab-connection" },
      { field: "watsonDeviceType", kind: "text", value: "sensor", tab: "gw-tab-connection" },
      { field: "watsonManaged", kind: "check", value: true, tab: "gw-tab-connection", before: false },
      { field: "watsonLifetime", kind: "text", value: "7200", tab: "gw-tab-connection" },
      { field: "platform", kind: "select", value: "thingsboard", tab: "gw-tab-connection" },
      { field: "url", kind: "text", value: "mqtts://127.0.0.1:3", tab: "gw-tab-connection" },
      // basic first, so its rows are visible while typed; then back to the token
      { field: "auth", kind: "select", value: "basic", tab: "gw-tab-connection" },
      { field: "username", kind: "text", value: "gw-user", tab: "gw-tab-connection", credential: true },
      { field: "password", kind: "text", value: "gw-pass", tab: "gw-tab-connection", credential: true },
      // provisioning likewise: its rows show while it is chosen
      { field: "auth", kind: "select", value: "provision", tab: "gw-tab-connection" },
      { field: "provisionKey", kind: "text", value: "PROVISION-KEY", tab: "gw-tab-connection", credential: true },
      { field: "provisionSecret", kind: "text", value: "PROVISION-SECRET", tab: "gw-tab-connection", credential: true },
      { field: "provisionDevice", kind: "text", value: "Edge gateway 1", tab: "gw-tab-connection" },
      { field: "provisionType", kind: "select", value: "MQTT_BASIC", tab: "gw-tab-connection", before: "ACCESS_TOKEN" },
      { field: "auth", kind: "select", value: "token", tab: "gw-tab-connection" },
      { field: "token", kind: "text", value: "TOKEN-1", tab: "gw-tab-connection", credential: true },
      { field: "clientId", kind: "text", value: "gw-client", tab: "gw-tab-connection" },
      { field: "tls", kind: "select", value: "tls1", tab: "gw-tab-connection" },
      { field: "protocolVersion", kind: "select", value: "5", tab: "gw-tab-connection" },
      { field: "qos", kind: "select", value: "1", tab: "gw-tab-connection" },
      { field: "keepalive", kind: "text", value: "30", tab: "gw-tab-connection" },
      { field: "reconnectMin", kind: "text", value: "2", tab: "gw-tab-connection" },
      { field: "reconnectMax", kind: "text", value: "90", tab: "gw-tab-connection" },
      { field: "batchWindow", kind: "text", value: "50", tab: "gw-tab-delivery" },
      { field: "maxPayload", kind: "text", value: "32768", tab: "gw-tab-delivery" },
      // the saved flow has no store properties: the dialog shows the memory store, with its bound
      { field: "storeType", kind: "select", value: "memory", tab: "gw-tab-delivery", before: "memory" },
      { field: "maxQueued", kind: "text", value: "5000", tab: "gw-tab-delivery" },
      { field: "storeType", kind: "select", value: "disk", tab: "gw-tab-delivery" },
      { field: "storePath", kind: "text", value: "/tmp/iotgw-dialogs-store", tab: "gw-tab-delivery" },
      { field: "storeMaxMB", kind: "text", value: "64", tab: "gw-tab-delivery" },
      { field: "storeMaxAgeH", kind: "text", value: "24", tab: "gw-tab-delivery" },
      { field: "doneWhen", kind: "select", value: "acknowledged", tab: "gw-tab-delivery", before: "acknowledged" },
      { field: "overflow", kind: "select", value: "drop-oldest", tab: "gw-tab-delivery" },
      // the saved flow has neither: the dialog shows what the runtime does for it (60 s, on)
      { field: "statsPeriod", kind: "text", value: "300", tab: "gw-tab-delivery", before: "60" },
      { field: "serviceRpcs", kind: "check", value: false, tab: "gw-tab-delivery", before: true },
    ],
  },
  {
    id: "mbc1", type: "modbus-connection", config: true,
    changes: [
      name("boiler line"),
      // the serial rows first, while the transport shows them; then back to TCP
      { field: "transport", kind: "select", value: "rtu" },
      { field: "path", kind: "text", value: "/dev/ttyUSB7" },
      { field: "baudRate", kind: "text", value: "19200" },
      { field: "dataBits", kind: "select", value: "7" },
      { field: "parity", kind: "select", value: "even" },
      { field: "stopBits", kind: "select", value: "2" },
      { field: "transport", kind: "select", value: "rtu-over-tcp" },
      { field: "host", kind: "text", value: "127.0.0.9" },
      { field: "port", kind: "text", value: "5020" },
      { field: "timeout", kind: "text", value: "800" },
      { field: "retries", kind: "text", value: "2" },
      { field: "delay", kind: "text", value: "10" },
      { field: "queueLimit", kind: "text", value: "50" },
      { field: "reconnectMin", kind: "text", value: "2" },
      { field: "reconnectMax", kind: "text", value: "20" },
      { field: "dropAfterTimeouts", kind: "text", value: "3" },
    ],
  },
  {
    id: "dc", type: "device-connect", config: false,
    changes: [gateway, typed("device", "str", "Pump 1"), typed("profile", "str", "Pump"), { field: "action", kind: "select", value: "disconnect" }, name("connect pump")],
  },
  {
    id: "to", type: "telemetry-out", config: false,
    changes: [gateway, typed("device", "str", "Meter 1"), typed("profile", "msg", "profile"), { field: "autoConnect", kind: "check", value: false }, name("meter values"), { field: "target", kind: "select", value: "gateway" }],
  },
  {
    id: "ao", type: "attribute-out", config: false,
    changes: [gateway, typed("device", "flow", "dev"), typed("profile", "env", "PROFILE"), { field: "autoConnect", kind: "check", value: false }, name("meter attrs"), { field: "target", kind: "select", value: "gateway" }],
  },
  {
    id: "ai", type: "attribute-in", config: false,
    changes: [
      gateway, { field: "updates", kind: "check", value: false }, { field: "devices", kind: "text", value: "Pump 1, Pump 2" }, { field: "fetchOnConnect", kind: "check", value: true },
      typed("device", "str", "Pump 1"), { field: "keys", kind: "text", value: "setpoint,mode" }, { field: "scope", kind: "select", value: "client" },
      { field: "timeout", kind: "text", value: "5" }, name("pump settings"),
    ],
  },
  {
    id: "ri", type: "rpc-in", config: false,
    changes: [
      gateway, { field: "devices", kind: "text", value: "Pump 1" }, { field: "target", kind: "select", value: "both" }, { field: "methods", kind: "text", value: "setValve" },
      { field: "autoAnswer", kind: "text", value: "3000" }, { field: "timeout", kind: "text", value: "120" }, name("pump rpc"),
    ],
  },
  { id: "rr", type: "rpc-response", config: false, changes: [gateway, name("answer")] },
  {
    id: "eo", type: "event-out", config: false,
    // the gateway first, while the device row shows; then the gateway itself as the target
    changes: [gateway, typed("device", "str", "Pump 1"), typed("method", "str", "alarm"), { field: "target", kind: "select", value: "gateway" }, name("pump alarm")],
  },
  {
    id: "rq", type: "rpc-request", config: false,
    changes: [gateway, { field: "method", kind: "text", value: "getTime" }, typed("params", "json", '{"tz":"UTC"}'), { field: "timeout", kind: "text", value: "5" }, name("ask time")],
  },
  {
    id: "cl", type: "claim", config: false,
    changes: [gateway, typed("device", "str", "Pump 1"), typed("secretKey", "str", "s3cret"), typed("duration", "num", "60000"), name("claim pump")],
  },
  {
    id: "ms", type: "modbus-source", config: false,
    changes: [
      { field: "connection", kind: "select", value: "mbc2" }, { field: "device", kind: "text", value: "Boiler 2" }, { field: "profile", kind: "text", value: "Heater" },
      { field: "unitId", kind: "text", value: "7" }, { field: "period", kind: "text", value: "10" }, { field: "reportMode", kind: "select", value: "change-or-period" },
      { field: "deadband", kind: "text", value: "0.5" }, { field: "reportPeriod", kind: "text", value: "60" }, { field: "maxGap", kind: "text", value: "4" },
      { field: "maxRegisters", kind: "text", value: "60" }, { field: "disconnectAfter", kind: "text", value: "3" }, name("boiler 2"),
    ],
    elsewhere: { map: "modbus-source.test.ts (the register map table)" },
  },
];
