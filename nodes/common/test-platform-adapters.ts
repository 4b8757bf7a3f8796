// One adapter per emulator behind the test platform: what it reports (info, devices with their latest
// data) and what it sends (RPC, attributes, command) in the platform's own terms, so that the
// registry and the admin routes stay platform-neutral.
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { ThingsPanelEmulator } from "../../emulator/thingspanel";
import { DEMO_SUB_DEVICES } from "../../emulator/thingspanel/cli";
import { WatsonEmulator, DEFAULT_GATEWAY as WATSON_GATEWAY, DEFAULT_ORG } from "../../emulator/watson";
import { startModbusSimulator, type ModbusSimulator } from "../../emulator/modbus-sim";
import {
  MODBUS_PORT, PROVISION_KEY, PROVISION_SECRET, TOKEN, TestPlatformError,
  type Action, type PlatformKind, type Running, type SendRequest, type SendResult,
} from "./test-platform-types";

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
    trim: (keep) => emu.forgetHistory(keep),
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
    trim: (keep) => emu.forgetHistory(keep),
    stop: () => emu.stop(),
  };
}

function watson(emu: WatsonEmulator, id: string, startedAt: number): Running {
  const gw = `${WATSON_GATEWAY.typeId}/${WATSON_GATEWAY.deviceId}`;
  return {
    info: () => ({
      id, platform: "watson", url: emu.url, port: portOf(emu.url), startedAt, gatewayConnected: emu.gatewayConnected(),
      use: { platform: "watson", url: emu.url, auth: "token", token: TOKEN, watsonOrg: emu.org, watsonType: WATSON_GATEWAY.typeId, watsonId: WATSON_GATEWAY.deviceId },
      actions: ["command", "device-action"],
    }),
    devices: () => emu.devices().map((d) => {
      const { event, count } = emu.latestEvent(d.type, d.id);
      const d2 = event && event.payload && typeof event.payload === "object" && "d" in event.payload ? (event.payload as { d: unknown }).d : event?.payload;
      const m = emu.managed(d.type, d.id);
      const managed = m && { deviceInfo: m.deviceInfo, metadata: m.metadata, location: m.location, errorCodes: m.errorCodes, log: m.log.length, dormant: emu.dormant(d.type, d.id) };
      return { name: `${d.type}/${d.id}`, gateway: d.gateway, connected: emu.gatewayConnected(), latest: event && { ts: event.at, values: d2, event: event.event }, count, managed };
    }),
    send: async (action, req) => {
      if (action !== "command" && action !== "device-action") return unsupported("watson", action);
      const command = needMethod(req);
      const target = req.device === "" ? gw : req.device;
      const slash = target.indexOf("/");
      if (slash <= 0 || slash === target.length - 1) throw new TestPlatformError("watson-device", 400, { device: req.device });
      const [type, devId] = [target.slice(0, slash), target.slice(slash + 1)];
      if (action === "device-action") {
        // a managed gateway's device action (reboot, factory_reset): answered with {rc, message}
        if (command !== "reboot" && command !== "factory_reset") throw new TestPlatformError("device-action", 400, { method: command });
        if (!emu.managed(type, devId)) throw new TestPlatformError("not-managed", 409, { device: target });
        const reqId = emu.initiate(type, devId, command);
        const r = await emu.waitFor(() => emu.actionResponse(reqId), req.timeoutMs ?? 10000).catch(() => undefined);
        if (!r) throw new TestPlatformError("send-failed", 502, { reason: `no answer to ${command} of ${target}` });
        return { delivered: true, response: r.message === undefined ? { rc: r.rc } : { rc: r.rc, message: r.message } };
      }
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
    trim: (keep) => emu.forgetHistory(keep),
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
    trim: () => undefined,
    stop: () => sim.stop(),
  };
}

/** Starts the emulator of `kind` on 127.0.0.1:`port` (0: a free one; the Modbus simulator: 5020), set up as the examples expect. */
export async function launchPlatform(kind: PlatformKind, port: number, startedAt: number, log?: (line: string) => void): Promise<Running> {
  const opts = { host: "127.0.0.1", port, log };
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
}
