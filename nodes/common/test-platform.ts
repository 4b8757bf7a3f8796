// The editor's test platform: emulators of ThingsBoard, ThingsPanel and Watson IoT started inside
// the Node-RED process on a local port, so that a palette user can try every node and example
// without a platform of their own. One registry per process (a redeploy keeps them running);
// the admin routes in test-platform-routes.ts are its only caller. No node-red import here.
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { ThingsPanelEmulator } from "../../emulator/thingspanel";
import { DEMO_SUB_DEVICES } from "../../emulator/thingspanel/cli";
import { WatsonEmulator, DEFAULT_GATEWAY as WATSON_GATEWAY, DEFAULT_ORG } from "../../emulator/watson";
import { startModbusSimulator, type ModbusSimulator } from "../../emulator/modbus-sim";

export const PLATFORMS = ["thingsboard", "thingspanel", "watson", "modbus"] as const;
export type PlatformKind = (typeof PLATFORMS)[number];

/** The device profile's provision key and secret the ThingsBoard test platform accepts (auth "provision"). */
export const PROVISION_KEY = "PROVISION_KEY";
export const PROVISION_SECRET = "PROVISION_SECRET";

/** The Modbus simulator's port when none is asked for: the one the Modbus example's connection names. */
export const MODBUS_PORT = 5020;

/** The access token every test platform accepts, the one the shipped examples' comments name. */
export const TOKEN = "GATEWAY_TOKEN";

/** What a gateway-config needs to use a platform: the editor's "use it" sets these. */
export interface UseSettings {
  platform: Exclude<PlatformKind, "modbus">;
  url: string;
  auth: "token";
  token: string;
  deviceNumber?: string;
  watsonOrg?: string;
  watsonType?: string;
  watsonId?: string;
  /** ThingsBoard: for a gateway-config that provisions itself (auth "provision") */
  provisionKey?: string;
  provisionSecret?: string;
}

export interface PlatformInfo {
  id: string;
  platform: PlatformKind;
  url: string;
  port: number;
  startedAt: number;
  gatewayConnected: boolean;
  /** for a gateway-config; none for the Modbus simulator (a modbus-connection names its host and port) */
  use?: UseSettings;
  /** what this platform can send: "rpc", "attributes", "command" */
  actions: Action[];
}

export type Action = "rpc" | "attributes" | "command";

export interface DeviceView {
  /** how the platform names the device: ThingsBoard's name, ThingsPanel's address path ("" = the gateway), Watson's type/id */
  name: string;
  gateway: boolean;
  connected?: boolean;
  profile?: string;
  /** the last telemetry (ThingsBoard, ThingsPanel) or event (Watson) received */
  latest?: { ts: number; values: unknown; event?: string };
  /** how many telemetry points / events were received */
  count: number;
  /** client attributes reported (ThingsBoard) / attributes stored (ThingsPanel) */
  attributes?: Record<string, unknown>;
  /** claiming requests received (ThingsBoard) */
  claims?: number;
  /** events received (ThingsPanel; Watson's events are its telemetry, in latest/count) */
  events?: { count: number; last?: string };
}

/** A failure the editor shows: `code` names the message in the catalogue, `params` fill it. */
export class TestPlatformError extends Error {
  constructor(readonly code: string, readonly status: number, readonly params: Record<string, string | number> = {}, detail?: string) {
    super(detail ?? code);
  }
}

export interface SendRequest {
  device: string;
  method?: string;
  params?: unknown;
  values?: Record<string, unknown>;
  timeoutMs?: number;
}

/** What came back: the device's answer, or (a one-way send) whether it reached the gateway. */
export interface SendResult {
  delivered: boolean;
  response?: unknown;
}

interface Running {
  info(): PlatformInfo;
  devices(): DeviceView[];
  send(action: Action, req: SendRequest): Promise<SendResult>;
  stop(): Promise<void>;
}

const portOf = (url: string): number => Number(new URL(url).port);

function unsupported(platform: PlatformKind, action: Action): never {
  throw new TestPlatformError("unsupported", 400, { platform, action });
}

function needMethod(req: SendRequest): string {
  const m = typeof req.method === "string" ? req.method.trim() : "";
  if (!m) throw new TestPlatformError("method-required", 400);
  return m;
}

function needValues(req: SendRequest): Record<string, unknown> {
  const v = req.values;
  if (!v || typeof v !== "object" || Array.isArray(v) || Object.keys(v).length === 0) throw new TestPlatformError("values-required", 400);
  return v;
}

/** The platform refused or did not answer: its own words go to the editor. */
async function answer(p: Promise<unknown>): Promise<SendResult> {
  try {
    return { delivered: true, response: await p };
  } catch (e) {
    throw new TestPlatformError("send-failed", 502, { reason: (e as Error).message });
  }
}

function thingsboard(emu: ThingsBoardEmulator, id: string, startedAt: number): Running {
  return {
    info: () => ({
      id, platform: "thingsboard", url: emu.url, port: portOf(emu.url), startedAt, gatewayConnected: emu.gatewayConnected(),
      use: { platform: "thingsboard", url: emu.url, auth: "token", token: TOKEN, provisionKey: PROVISION_KEY, provisionSecret: PROVISION_SECRET }, actions: ["rpc", "attributes"],
    }),
    devices: () => [...emu.gateways(), ...emu.devices()].map((d) => {
      const { point, count } = emu.latestTelemetry(d.name);
      const attributes = emu.clientAttributes(d.name);
      return { name: d.name, gateway: d.isGateway, connected: d.connected, profile: d.profile, latest: point && { ts: point.ts, values: point.values }, count, attributes, claims: emu.claims(d.name).length };
    }),
    send: async (action, req) => {
      // "" or the gateway's own name: the gateway device itself
      const own = req.device === "" || emu.gateways().some((g) => g.name === req.device);
      if (action === "rpc") {
        const method = needMethod(req);
        const timeout = req.timeoutMs ?? 10000;
        return answer(own ? emu.callGatewayRpc(method, req.params, timeout) : emu.callRpc(req.device, method, req.params, timeout));
      }
      if (action === "attributes") {
        const values = needValues(req);
        const name = own ? emu.gateways()[0].name : req.device;
        if (!emu.device(name)) throw new TestPlatformError("unknown-device", 404, { device: req.device });
        const delivered = emu.setSharedAttributes(name, values);
        if (!delivered) throw new TestPlatformError("not-delivered", 409, { device: req.device });
        return { delivered };
      }
      return unsupported("thingsboard", action);
    },
    stop: () => emu.stop(),
  };
}

/** ThingsPanel's downlink envelope for a device path: "a/b" is b under sub-gateway a. */
export function envelope(path: string, body: unknown): Record<string, unknown> {
  if (path === "") return { gateway_data: body };
  const parts = path.split("/");
  let inner: Record<string, unknown> = { sub_device_data: { [parts[parts.length - 1]]: body } };
  for (let i = parts.length - 2; i >= 0; i--) inner = { sub_gateway_data: { [parts[i]]: inner } };
  return inner;
}

function thingspanel(emu: ThingsPanelEmulator, id: string, startedAt: number): Running {
  const known = (path: string) => {
    if (!emu.devices().includes(path)) throw new TestPlatformError("unknown-device", 404, { device: path });
  };
  return {
    info: () => ({
      id, platform: "thingspanel", url: emu.url, port: portOf(emu.url), startedAt, gatewayConnected: emu.gatewayConnected(),
      use: { platform: "thingspanel", url: emu.url, auth: "token", token: TOKEN, deviceNumber: emu.deviceNumber }, actions: ["command", "attributes"],
    }),
    devices: () => emu.devices().map((path) => {
      const { point, count } = emu.latestTelemetry(path);
      const events = emu.events(path);
      return { name: path, gateway: path === "", connected: emu.gatewayConnected(), latest: point, count, attributes: emu.attributes(path), events: { count: events.length, last: events[events.length - 1]?.method } };
    }),
    send: async (action, req) => {
      const timeout = req.timeoutMs ?? 5000;
      if (action === "command") {
        const method = needMethod(req);
        known(req.device);
        return answer(emu.command(envelope(req.device, { method, params: req.params ?? {} }), timeout));
      }
      if (action === "attributes") {
        const values = needValues(req);
        known(req.device);
        return answer(emu.setAttributes(envelope(req.device, values), timeout));
      }
      return unsupported("thingspanel", action);
    },
    stop: () => emu.stop(),
  };
}

function watson(emu: WatsonEmulator, id: string, startedAt: number): Running {
  const gw = `${WATSON_GATEWAY.typeId}/${WATSON_GATEWAY.deviceId}`;
  return {
    info: () => ({
      id, platform: "watson", url: emu.url, port: portOf(emu.url), startedAt, gatewayConnected: emu.gatewayConnected(),
      use: { platform: "watson", url: emu.url, auth: "token", token: TOKEN, watsonOrg: emu.org, watsonType: WATSON_GATEWAY.typeId, watsonId: WATSON_GATEWAY.deviceId },
      actions: ["command"],
    }),
    devices: () => emu.devices().map((d) => {
      const { event, count } = emu.latestEvent(d.type, d.id);
      const d2 = event && event.payload && typeof event.payload === "object" && "d" in event.payload ? (event.payload as { d: unknown }).d : event?.payload;
      return { name: `${d.type}/${d.id}`, gateway: d.gateway, connected: emu.gatewayConnected(), latest: event && { ts: event.at, values: d2, event: event.event }, count };
    }),
    send: async (action, req) => {
      if (action !== "command") return unsupported("watson", action);
      const command = needMethod(req);
      const target = req.device === "" ? gw : req.device;
      const slash = target.indexOf("/");
      if (slash <= 0 || slash === target.length - 1) throw new TestPlatformError("watson-device", 400, { device: req.device });
      const [type, devId] = [target.slice(0, slash), target.slice(slash + 1)];
      const before = emu.events(type, devId).length;
      const n = emu.command(type, devId, command, req.params ?? {});
      if (n === 0) throw new TestPlatformError("not-delivered", 409, { device: target });
      // A command has no answer in Watson IoT; the examples reply with a "<command>-reply" event.
      const timeout = req.timeoutMs ?? 3000;
      const reply = await emu
        .waitFor(() => emu.events(type, devId).slice(before).find((e) => e.event === `${command}-reply`), timeout)
        .catch(() => undefined);
      const body = reply?.payload && typeof reply.payload === "object" && "d" in reply.payload ? (reply.payload as { d: unknown }).d : reply?.payload;
      return reply ? { delivered: true, response: body } : { delivered: true };
    },
    stop: () => emu.stop(),
  };
}

/** The boiler of the Modbus example (unit 1), polled by a modbus-source; nothing to send from here. */
function modbus(sim: ModbusSimulator, id: string, startedAt: number): Running {
  const url = `modbus-tcp://${sim.host}:${sim.port}`;
  return {
    info: () => ({ id, platform: "modbus", url, port: sim.port, startedAt, gatewayConnected: false, actions: [] }),
    devices: () => [{ name: "Boiler (unit 1)", gateway: false, latest: { ts: Date.now(), values: sim.state() }, count: 0 }],
    send: async (action) => unsupported("modbus", action),
    stop: () => sim.stop(),
  };
}

/** The platforms running in this process, by id ("thingsboard-41883"). */
export class TestPlatforms {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Set<Promise<unknown>>();

  async start(platform: string, port = 0, log?: (line: string) => void): Promise<PlatformInfo> {
    if (!(PLATFORMS as readonly string[]).includes(platform)) throw new TestPlatformError("unknown-platform", 400, { platform });
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TestPlatformError("bad-port", 400, { port: String(port) });
    const kind = platform as PlatformKind;
    const startedAt = Date.now();
    const opts = { host: "127.0.0.1", port, log };
    const launch = (async (): Promise<Running> => {
      if (kind === "thingsboard") {
        const emu = await ThingsBoardEmulator.start({ ...opts, gateways: [{ name: "Gateway", token: TOKEN }] });
        // what the gateway-rpc-request example asks its rule chain for
        emu.answerGatewayRpc("getCurrentTime", () => ({ time: Date.now() }));
        // what the gateway-provisioning example asks for, when its gateway-config provisions itself
        emu.allowProvisioning({ key: PROVISION_KEY, secret: PROVISION_SECRET });
        return thingsboard(emu, `thingsboard-${portOf(emu.url)}`, startedAt);
      }
      if (kind === "thingspanel") {
        const emu = await ThingsPanelEmulator.start({ ...opts, gateways: [{ deviceNumber: "GW-0001", username: TOKEN }], subDevices: { "GW-0001": DEMO_SUB_DEVICES } });
        return thingspanel(emu, `thingspanel-${portOf(emu.url)}`, startedAt);
      }
      if (kind === "modbus") {
        const sim = await startModbusSimulator({ host: "127.0.0.1", port: port || MODBUS_PORT, log });
        return modbus(sim, `modbus-${sim.port}`, startedAt);
      }
      const emu = await WatsonEmulator.start({ ...opts, org: DEFAULT_ORG, gateways: [{ ...WATSON_GATEWAY, token: TOKEN }] });
      return watson(emu, `watson-${portOf(emu.url)}`, startedAt);
    })();
    this.starting.add(launch);
    let r: Running;
    try {
      r = await launch;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "EADDRINUSE") throw new TestPlatformError("port-in-use", 409, { port });
      if (err.code === "EACCES") throw new TestPlatformError("port-denied", 409, { port });
      throw new TestPlatformError("start-failed", 500, { reason: err.message });
    } finally {
      this.starting.delete(launch);
    }
    const info = r.info();
    this.running.set(info.id, r);
    return info;
  }

  list(): PlatformInfo[] {
    return [...this.running.values()].map((r) => r.info());
  }

  private get(id: string): Running {
    const r = this.running.get(id);
    if (!r) throw new TestPlatformError("not-running", 404, { id });
    return r;
  }

  info(id: string): PlatformInfo {
    return this.get(id).info();
  }

  devices(id: string): DeviceView[] {
    return this.get(id).devices();
  }

  send(id: string, action: Action, req: SendRequest): Promise<SendResult> {
    return this.get(id).send(action, req);
  }

  async stop(id: string): Promise<void> {
    const r = this.get(id);
    this.running.delete(id);
    await r.stop();
  }

  /** Node-RED stops: every platform, also one still starting. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.starting]);
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.allSettled(all.map((r) => r.stop()));
  }
}

/** One registry per process: Node-RED loads the package once, a test harness many times. */
export const testPlatforms = new TestPlatforms();
