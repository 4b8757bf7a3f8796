// The ThingsPanel emulator applies the broker's and backend's rules (shared/protocols/thingspanel.md),
// seen from a plain MQTT client: what the gateway's code must get right, the emulator checks.
import mqtt, { type MqttClient } from "mqtt";
import should from "should";
import { ThingsPanelEmulator } from "../../emulator/thingspanel";

const DN = "GW-0001";

function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { username: "GATEWAY_TOKEN", clientId: "mqtt_test", reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    c.once("connect", () => resolve(c));
    c.once("error", (e) => {
      c.end(true);
      reject(e);
    });
  });
}

describe("ThingsPanel emulator rules", function () {
  let emu: ThingsPanelEmulator;
  const clients: MqttClient[] = [];
  beforeEach(async () => {
    emu = await ThingsPanelEmulator.start({
      gateways: [{ deviceNumber: DN, username: "GATEWAY_TOKEN" }, { deviceNumber: "GW-B", username: "user-b", password: "secret" }],
      subDevices: { [DN]: ["sensor_001", "line-2/sensor_101"] },
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await emu.stop();
  });

  async function client(opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await connect(emu.url, opts);
    clients.push(c);
    return c;
  }

  it("accepts an ACCESSTOKEN voucher (empty password) and a BASIC one; refuses wrong ones and the platform's own users", async () => {
    await client();
    await client({ username: "user-b", password: "secret", clientId: "b" });
    await connect(emu.url, { username: "user-b", password: "wrong", clientId: "b2" }).should.be.rejected();
    await connect(emu.url, { username: "root", password: "", clientId: "r" }).should.be.rejected();
    await connect(emu.url, { username: "GATEWAY_TOKEN", clientId: "" , clean: true }).should.be.rejected();
  });

  it("checks only the first topic of a SUBSCRIBE (recorded as a broken rule), and refuses another gateway's or a wildcard device number", async () => {
    const c = await client();
    const granted = await c.subscribeAsync([`gateway/command/${DN}/+`, "gateway/command/GW-B/+"], { qos: 1 });
    granted.map((g) => g.qos).should.eql([1, 1]); // the broker lets the second through unchecked
    emu.violations().should.have.length(1);
    emu.violations()[0].should.match(/checks only the first/);
    // mqtt.js rejects a SUBACK failure (0x80)
    await c.subscribeAsync("gateway/command/+/+", { qos: 1 }).should.be.rejectedWith(/Subscribe error/);
    await c.subscribeAsync("gateway/command/GW-B/+", { qos: 1 }).should.be.rejectedWith(/Subscribe error/);
  });

  it("replaces a keepalive over 300 s with 300 s and records it", async () => {
    await client({ keepalive: 600 });
    emu.violations().should.eql([`${DN}: keepalive 600 s: the broker allows at most 300 s`]);
  });

  it("stores telemetry stamped with the server's time, skips unknown addresses, and fails a whole message with an array", async () => {
    const c = await client();
    await c.publishAsync("gateway/telemetry", JSON.stringify({ sub_device_data: { sensor_001: { t: 1 }, ghost: { t: 2 } }, sub_gateway_data: { "line-2": { sub_device_data: { sensor_101: { t: 3 } } } } }), { qos: 1 });
    await c.publishAsync("gateway/telemetry", JSON.stringify({ gateway_data: [{ ts: 1, values: { t: 9 } }], sub_device_data: { sensor_001: { t: 4 } } }), { qos: 1 });
    await emu.waitFor(() => emu.journal().some((j) => j.kind === "dropped"), 2000, "the array message dropped");
    emu.telemetry("sensor_001").map((p) => p.values).should.eql([{ t: 1 }]);
    emu.telemetry("line-2/sensor_101").map((p) => p.values).should.eql([{ t: 3 }]);
    (Date.now() - emu.telemetry("sensor_001")[0].ts).should.be.below(5000);
    emu.journal().some((j) => j.kind === "skipped" && (j.detail as { address: string }).address === "ghost").should.be.true();
    emu.telemetry("").should.be.empty();
  });

  it("acks attribute reports and events on devices/… by default, on gateway/… when told, with result 1 when told", async () => {
    const c = await client();
    for (const t of [`devices/attributes/response/${DN}/+`, `gateway/attributes/response/${DN}/+`, `devices/event/response/${DN}/+`]) await c.subscribeAsync(t, { qos: 1 });
    const got: Array<[string, unknown]> = [];
    c.on("message", (topic, payload) => got.push([topic, JSON.parse(payload.toString())]));
    await c.publishAsync("gateway/attributes/00000001", JSON.stringify({ sub_device_data: { sensor_001: { ip: "1" } } }), { qos: 1 });
    emu.ackMode = "gateway";
    await c.publishAsync("gateway/attributes/00000002", JSON.stringify({ gateway_data: { mac: "m" } }), { qos: 1 });
    emu.ackMode = "devices";
    emu.failNextAck("event", "E1", "bad");
    await c.publishAsync("gateway/event/00000003", JSON.stringify({ sub_device_data: { sensor_001: { method: "Alarm", params: {} } } }), { qos: 1 });
    await emu.waitFor(() => got.length === 3, 2000, "three acks");
    got.map(([t]) => t).should.eql([`devices/attributes/response/${DN}/00000001`, `gateway/attributes/response/${DN}/00000002`, `devices/event/response/${DN}/00000003`]);
    (got[2][1] as Record<string, unknown>).should.have.properties({ result: 1, errcode: "E1", message: "bad" });
    emu.attributes("sensor_001").should.eql({ ip: "1" });
    emu.attributes("").should.eql({ mac: "m" });
    emu.events("sensor_001").map((e) => e.method).should.eql(["Alarm"]);
  });

  it("sends commands on the gateway's topic and resolves with the response for their message id", async () => {
    const c = await client();
    await c.subscribeAsync(`gateway/command/${DN}/+`, { qos: 1 });
    c.on("message", (topic) => {
      const mid = topic.split("/")[3];
      void c.publishAsync(`gateway/command/response/${mid}`, JSON.stringify({ result: 0, message: "success", ts: 1 }), { qos: 1 });
    });
    should(await emu.command({ sub_device_data: { sensor_001: { method: "Calibrate", params: {} } } })).eql({ result: 0, message: "success", ts: 1 });
    await emu.command({}, 200, "GW-B").should.be.rejectedWith(/no response/);
  });
});
