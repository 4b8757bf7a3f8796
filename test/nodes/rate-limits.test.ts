// ThingsBoard refuses (QUOTA_EXCEEDED) and closes the session when a gateway exceeds a rate
// limit or has more than maxInflightMessages publishes waiting; the buckets belong to the gateway
// device, so a reconnect does not refill them and a gateway that flushes its backlog at once
// loops for good. The emulator enforces what it announces in getSessionLimits; these tests deploy
// real flows and check that what the server counts stays within what it allows.
import should from "should";
import { ThingsBoardEmulator, type SessionLimitsPatch } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";

const NO_LIMIT = { messages: "", telemetryMessages: "", telemetryDataPoints: "" };

function flow(url: string, gw: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url, gw),
  ];
}

/** A port nothing listens on yet, for an emulator started later (an outage from the first second). */
async function freePort(): Promise<number> {
  const e = await ThingsBoardEmulator.start();
  const port = Number(new URL(e.url).port);
  await e.stop();
  return port;
}

function limits(gatewayRateLimits: Partial<typeof NO_LIMIT>, extra: SessionLimitsPatch = {}): SessionLimitsPatch {
  return { gatewayRateLimits: { ...NO_LIMIT, ...gatewayRateLimits }, rateLimits: NO_LIMIT, ...extra };
}

function points(emu: ThingsBoardEmulator, devices: string[]): number {
  return devices.reduce((n, d) => n + emu.telemetry(d).length, 0);
}

describe("rate limits and the in-flight bound, as the server counts and enforces them", function () {
  this.timeout(60000);
  let emu: ThingsBoardEmulator | undefined;

  beforeEach(() => new Promise<void>((r) => helper.startServer(() => r())));

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu?.stop();
    emu = undefined;
  });

  it("drains a backlog built during an outage under telemetryDataPoints 500:1 without a refusal or a disconnect", async () => {
    const port = await freePort();
    await load(flow(`mqtt://127.0.0.1:${port}`));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    const devices = Array.from({ length: 10 }, (_, i) => `Meter ${i}`);
    const n = 1000; // 2 values each: 2,000 data points, four seconds of the 80 % budget
    for (let i = 0; i < n; i++) tel.receive({ device: devices[i % 10], ts: 1700000000000 + i, payload: { a: i, b: -i } });
    emu = await ThingsBoardEmulator.start({ port, sessionLimits: limits({ telemetryDataPoints: "500:1" }) });
    await until(() => completed.length + errors.length === n, 30000, "every msg ended");
    errors.should.have.length(0);
    emu.closedReasons().should.eql([]);
    emu.gatewayConnections().should.equal(1);
    points(emu, devices).should.equal(n);
  });

  it("splits one msg with more data points than a bucket holds, and refuses a point that alone is over it, at its own node", async () => {
    emu = await ThingsBoardEmulator.start({ sessionLimits: limits({ telemetryDataPoints: "100:1" }) });
    await load(flow(emu.url));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    await until(() => emu!.gatewayConnected(), 5000, "gateway connection");
    await until(() => emu!.sessionLimits(), 5000, "limits asked");
    // 150 points of one value: more than the 80 data points one publish may carry, split in two
    tel.receive({ device: "Many", payload: Array.from({ length: 150 }, (_, i) => ({ ts: 1700000000000 + i, values: { v: i } })) });
    const wide: Record<string, number> = {};
    for (let i = 0; i < 90; i++) wide[`k${i}`] = i;
    tel.receive({ device: "Wide", payload: wide });
    await until(() => completed.length + errors.length === 2, 20000, "both msgs ended");
    errors.should.have.length(1);
    should((errors[0].error as { message: string }).message).match(/90 data points, more than one message may carry under the server's rate limit/);
    emu.telemetry("Many").should.have.length(150);
    emu.telemetry("Wide").should.be.empty();
    emu.closedReasons().should.eql([]);
  });

  it("counts one telemetry message per device of a publish (telemetryMessages 50:1, 120 devices)", async () => {
    const port = await freePort();
    await load(flow(`mqtt://127.0.0.1:${port}`));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    const devices = Array.from({ length: 120 }, (_, i) => `Unit ${i}`);
    for (const d of devices) tel.receive({ device: d, payload: { t: 1 } });
    emu = await ThingsBoardEmulator.start({ port, sessionLimits: limits({ telemetryMessages: "50:1" }) });
    await until(() => completed.length + errors.length === devices.length, 30000, "every msg ended");
    errors.should.have.length(0);
    emu.closedReasons().should.eql([]);
    points(emu, devices).should.equal(devices.length);
  });

  it("keeps no more publishes awaiting their PUBACK than maxInflightMessages on a slow server", async () => {
    const port = await freePort();
    // a small packet limit makes many publishes out of the backlog
    await load(flow(`mqtt://127.0.0.1:${port}`, { maxPayload: 512 }));
    const tel = helper.getNode("tel");
    const completed = collect("completed");
    const errors = collect("errors");
    const n = 300;
    for (let i = 0; i < n; i++) tel.receive({ device: `D${i % 3}`, ts: 1700000000000 + i, payload: { label: "x".repeat(60), i } });
    emu = await ThingsBoardEmulator.start({ port, sessionLimits: limits({}, { maxInflightMessages: 3 }) });
    emu.setAckDelay(20);
    await until(() => completed.length + errors.length === n, 30000, "every msg ended");
    errors.should.have.length(0);
    emu.closedReasons().should.eql([]);
    emu.gatewayConnections().should.equal(1);
    points(emu, ["D0", "D1", "D2"]).should.equal(n);
  });
});
