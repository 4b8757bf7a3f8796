import should from "should";
import { dialectFor } from "../../lib/dialect";
import type { Dialect, Encoded } from "../../lib/dialect/types";
import type { Uplink } from "../../lib/records";
import { UplinkAcks } from "../../lib/session/uplink-acks";

const ID = { org: "abc123", typeId: "gw-type", deviceId: "gw1" };
const w = (extra: Record<string, string> = {}): Dialect => dialectFor("watson", { ...ID, ...extra });

function enc(d: Dialect, batch: Uplink[], max = 131072): Encoded {
  return d.encode(batch, max, 0, { prepared: batch.map((u) => (d.validate(u) === null ? d.prepare(u) : undefined)) });
}

function body(p: { payload: Buffer }): Record<string, unknown> {
  return JSON.parse(p.payload.toString());
}

describe("Watson IoT dialect", () => {
  it("connects as g:org:type:id with use-token-auth and the token as the password", () => {
    w().connectOptions({ accessToken: "tok" }).should.eql({ clientId: "g:abc123:gw-type:gw1", username: "use-token-auth", password: "tok" });
    w().subscriptions.should.eql(["iot-2/type/gw-type/id/gw1/notify", "iot-2/type/+/id/+/cmd/+/fmt/+"]);
    should(w().defaultMaxPayload).equal(131072);
  });

  it("refuses an identity the platform would refuse, before anything is sent", () => {
    (() => dialectFor("watson", {})).should.throw(/organisation id/);
    (() => dialectFor("watson", { ...ID, typeId: "a".repeat(37) })).should.throw(/37 characters: Watson IoT allows at most 36/);
    (() => dialectFor("watson", { ...ID, deviceId: "gw 1" })).should.throw(/only letters, digits/);
    (() => dialectFor("watson", { ...ID, deviceType: "bad/type" })).should.throw(/default device type/);
  });

  it("validates device ids and types (≤ 36 of [A-Za-z0-9-_.]) and event ids", () => {
    const d = w();
    should(d.validate({ kind: "telemetry", device: "s-1_a.b", points: [{ values: { t: 1 } }] })).be.null();
    should(d.validate({ kind: "telemetry", device: "x".repeat(37), points: [{ values: { t: 1 } }] })).match(/at most 36/);
    should(d.validate({ kind: "telemetry", device: "line/2", points: [{ values: { t: 1 } }] })).match(/only letters/);
    should(d.validate({ kind: "connect", device: "s1", profile: "temp sensor" })).match(/device type \(profile\) of "s1"/);
    should(d.validate({ kind: "event", device: "s1", method: "a/b", params: {} })).match(/may not contain/);
    should(d.validate({ kind: "attributes", device: "s1", values: { a: 1 } })).match(/no attributes outside device management/);
    should(d.validate({ kind: "claim", device: "s1" })).match(/no device claiming/);
  });

  it("publishes each telemetry point of a device as its own event {d, ts} on the device's type and id", () => {
    const d = w();
    const e = enc(d, [
      { kind: "connect", device: "s1", profile: "sensor" },
      { kind: "telemetry", device: "s1", points: [{ ts: 1000, values: { t: 1 } }, { ts: 2000, values: { t: 2 } }, { ts: 1000, values: { h: 5 } }] },
      { kind: "gatewayTelemetry", points: [{ values: { cpu: 3 } }] },
    ]);
    e.refused.should.eql([]);
    e.publishes.map((p) => p.topic).should.eql([
      "iot-2/type/sensor/id/s1/evt/telemetry/fmt/json",
      "iot-2/type/sensor/id/s1/evt/telemetry/fmt/json",
      "iot-2/type/gw-type/id/gw1/evt/telemetry/fmt/json",
    ]);
    body(e.publishes[0]).should.eql({ d: { t: 1, h: 5 }, ts: "1970-01-01T00:00:01.000Z" });
    body(e.publishes[1]).should.eql({ d: { t: 2 }, ts: "1970-01-01T00:00:02.000Z" });
    body(e.publishes[2]).should.eql({ d: { cpu: 3 } });
    e.publishes[0].carries.should.eql([1]);
    e.publishes[0].cost.messages.should.equal(1);
  });

  it("refuses a device whose type is unknown, unless the gateway-config gives a default type", () => {
    const e = enc(w(), [{ kind: "telemetry", device: "s9", points: [{ values: { t: 1 } }] }]);
    e.publishes.should.eql([]);
    e.refused[0].reason.should.match(/needs the device type of "s9"/);
    const e2 = enc(w({ deviceType: "generic" }), [{ kind: "event", device: "s9", method: "alarm", params: { level: 2 } }]);
    e2.publishes[0].topic.should.equal("iot-2/type/generic/id/s9/evt/alarm/fmt/json");
    should(body(e2.publishes[0]).d).eql({ level: 2 });
  });

  it("refuses a publish over 131,072 bytes with its topic (the platform would close the connection)", () => {
    const d = w({ deviceType: "t" });
    const e = enc(d, [
      { kind: "telemetry", device: "big", points: [{ values: { s: "x".repeat(131072) } }] },
      { kind: "telemetry", device: "ok", points: [{ values: { s: "x" } }] },
    ]);
    e.refused.map((r) => r.index).should.eql([0]);
    e.refused[0].reason.should.match(/over the limit of 131072 bytes per packet/);
    e.publishes.map((p) => p.carries[0]).should.eql([1]);
  });

  it("turns commands into rpc requests (the gateway's own into gateway requests), JSON parsed, and answers them with a reply event", () => {
    const d = w();
    const r = d.decode("iot-2/type/sensor/id/s1/cmd/setRate/fmt/json", Buffer.from('{"rate":5}'));
    should(r).match({ kind: "rpcRequest", device: "s1", method: "setRate", params: { rate: 5 } });
    const g = d.decode("iot-2/type/gw-type/id/gw1/cmd/reboot/fmt/text", Buffer.from("now"));
    should(g).match({ kind: "gatewayRpcRequest", method: "reboot", params: "now" });
    should(d.decode("iot-2/type/sensor/id/s1/cmd/x/fmt/json", Buffer.from("{bad"))).match({ error: /not valid JSON/ });
    should(d.decode("v1/devices/me/rpc", Buffer.from("{}"))).be.null();
    const id = (r as { id: number }).id;
    const e = enc(d, [{ kind: "rpcResponse", device: "s1", id, data: { ok: true } }]);
    e.publishes[0].topic.should.equal("iot-2/type/sensor/id/s1/evt/setRate-reply/fmt/json");
    should(body(e.publishes[0]).d).eql({ ok: true });
    // The type of a device first seen in a command names its events too.
    enc(d, [{ kind: "telemetry", device: "s1", points: [{ values: { t: 1 } }] }]).publishes[0].topic.should.equal("iot-2/type/sensor/id/s1/evt/telemetry/fmt/json");
  });

  it("decodes a notification into a failure of the publish it reports, with RC and Message", () => {
    const d = w();
    const topic = "iot-2/type/sensor/id/s1/evt/telemetry/fmt/json";
    const n = d.decode("iot-2/type/gw-type/id/gw1/notify", Buffer.from(JSON.stringify({ Request: "publish", Time: "2026-01-01T00:00:00Z", Topic: topic, Type: "sensor", Id: "s1", Client: "g:abc123:gw-type:gw1", RC: 91, Message: "Maximum number of devices per gateway has been reached." })));
    should(n).match({ kind: "uplinkAck", key: d.failureKey?.(topic) });
    (n as { failure: string }).failure.should.match(/RC 91/).and.match(/Maximum number of devices per gateway/).and.match(/500 devices/);
  });

  it("fails the oldest publish of a topic that a failure reached before its PUBACK; the others are delivered", async () => {
    const d = w();
    const topic = "iot-2/type/sensor/id/s1/evt/telemetry/fmt/json";
    const acks = new UplinkAcks(undefined, 1000, d.failureKey?.bind(d));
    const pubacks: Array<() => void> = [];
    const t = acks.wrap({ publish: () => new Promise<void>((resolve) => pubacks.push(resolve)) });
    const first = t.publish(topic, Buffer.from("{}"));
    const second = t.publish(topic, Buffer.from("{}"));
    acks.settle(d.failureKey?.(topic) as string, "RC 1: no").should.be.true();
    pubacks.forEach((f) => f());
    await first.should.be.rejectedWith(/RC 1: no/);
    await second.should.be.fulfilled();
    acks.settle(d.failureKey?.(topic) as string, "late").should.be.false();
  });
});
