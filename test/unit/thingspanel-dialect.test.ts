import should from "should";
import { dialectFor } from "../../lib/dialect";
import type { Dialect } from "../../lib/dialect/types";
import type { Downlink, Uplink } from "../../lib/records";

function body(p: { payload: Buffer }): unknown {
  return JSON.parse(p.payload.toString());
}

const tp = (): Dialect => dialectFor("thingspanel", { deviceNumber: "GW-1" });

describe("ThingsPanel dialect", () => {
  it("is made from the gateway's device number, which may not be missing or a wildcard", () => {
    tp().subscriptions.should.containEql("gateway/command/GW-1/+");
    tp().subscriptions.should.containEql("devices/attributes/response/GW-1/+");
    tp().subscriptions.should.containEql("gateway/event/response/GW-1/+");
    (() => dialectFor("thingspanel", {})).should.throw(/device number/);
    (() => dialectFor("thingspanel", { deviceNumber: "+" })).should.throw(/may not contain/);
    (() => dialectFor("thingspanel", { deviceNumber: "a/#" })).should.throw(/may not contain/);
  });

  it("keeps the client id across reconnects and sends an access token as the username with an empty password", () => {
    tp().connectOptions({ accessToken: "T" }).should.eql({ clientId: "mqtt_GW-1", username: "T", password: "" });
    tp().connectOptions({ username: "u", password: "p", clientId: "c" }).should.eql({ clientId: "c", username: "u", password: "p" });
    should(tp().maxKeepaliveS).equal(300);
  });

  it("validates sub-device addresses (≤ 36 characters) and nesting (≤ 5 addresses)", () => {
    const d = tp();
    should(d.validate({ kind: "telemetry", device: "line-2/sensor_101", points: [{ values: { t: 1 } }] })).be.null();
    d.validate({ kind: "telemetry", device: "x".repeat(37), points: [{ values: { t: 1 } }] })!.should.match(/longer than 36/);
    d.validate({ kind: "telemetry", device: "a/b/c/d/e/f", points: [{ values: { t: 1 } }] })!.should.match(/depth of 5/);
    d.validate({ kind: "telemetry", device: "a//b", points: [{ values: { t: 1 } }] })!.should.match(/empty sub-device address/);
    d.validate({ kind: "claim", device: "a" })!.should.match(/no device claiming/);
    d.validate({ kind: "event", device: "a", method: "", params: {} })!.should.match(/method/);
  });

  it("merges the gateway's and sub-devices' telemetry of many msgs into one real-time envelope, nested by path", () => {
    const batch: Uplink[] = [
      { kind: "gatewayTelemetry", points: [{ ts: 5, values: { version: "1.0" } }] },
      { kind: "telemetry", device: "sensor_001", points: [{ ts: 6, values: { t: 24 } }] },
      { kind: "telemetry", device: "line-2/sensor_101", points: [{ ts: 7, values: { t: 27.5 } }] },
      { kind: "telemetry", device: "line-2", points: [{ ts: 7, values: { on: true } }] },
    ];
    const { publishes, refused } = tp().encode(batch, 65536);
    refused.should.be.empty();
    publishes.should.have.length(1);
    publishes[0].topic.should.equal("gateway/telemetry");
    publishes[0].carries.sort().should.eql([0, 1, 2, 3]);
    should(body(publishes[0])).eql({
      gateway_data: { version: "1.0" },
      sub_device_data: { sensor_001: { t: 24 }, "line-2": { on: true } },
      sub_gateway_data: { "line-2": { sub_device_data: { sensor_101: { t: 27.5 } } } },
    });
  });

  it("sends points with their own timestamps in time order, one envelope per timestamp, never an array", () => {
    const batch: Uplink[] = [{ kind: "telemetry", device: "s", points: [{ ts: 30, values: { t: 3 } }, { ts: 10, values: { t: 1 } }, { ts: 20, values: { t: 2 } }, { ts: 10, values: { h: 1 } }] }];
    const { publishes } = tp().encode(batch, 65536);
    publishes.map(body).should.eql([{ sub_device_data: { s: { t: 1, h: 1 } } }, { sub_device_data: { s: { t: 2 } } }, { sub_device_data: { s: { t: 3 } } }]);
  });

  it("gives attribute reports and events a fresh message id each, and awaits the platform's ack for them", () => {
    const d = tp();
    const a = d.encode([{ kind: "attributes", device: "s", values: { ip: "1" } }, { kind: "gatewayAttributes", values: { mac: "m" } }], 65536).publishes;
    a.should.have.length(1);
    a[0].topic.should.match(/^gateway\/attributes\/[0-9a-f]{8}$/);
    should(body(a[0])).eql({ sub_device_data: { s: { ip: "1" } }, gateway_data: { mac: "m" } });
    const e = d.encode([{ kind: "event", device: "s", method: "Alarm", params: { level: "high" } }, { kind: "event", device: "s", method: "Alarm2", params: {} }], 65536).publishes;
    e.should.have.length(2); // one event per device per envelope
    e[0].topic.should.not.equal(e[1].topic);
    should(body(e[0])).eql({ sub_device_data: { s: { method: "Alarm", params: { level: "high" } } } });
    d.awaitsAck!(a[0].topic)!.should.equal(`attributes/${a[0].topic.split("/")[2]}`);
    d.awaitsAck!(e[0].topic)!.should.equal(`event/${e[0].topic.split("/")[2]}`);
    should(d.awaitsAck!("gateway/telemetry")).be.undefined();
    should(d.awaitsAck!("gateway/attributes/set/response/abc")).be.undefined();
  });

  it("splits envelopes under the packet limit and refuses a device's values that cannot fit alone", () => {
    const batch: Uplink[] = [];
    for (let i = 0; i < 200; i++) batch.push({ kind: "telemetry", device: `s${i}`, points: [{ values: { v: "x".repeat(50) } }] });
    batch.push({ kind: "telemetry", device: "big", points: [{ values: { v: "y".repeat(5000) } }] });
    const { publishes, refused } = tp().encode(batch, 2048);
    refused.map((r) => r.index).should.eql([200]);
    for (const p of publishes) (2 + p.topic.length + 2 + p.payload.length).should.be.belowOrEqual(2048);
    publishes.flatMap((p) => p.carries).sort((x, y) => x - y).should.eql([...Array(200).keys()]);
  });

  it("reads acks from both the backend's devices/… and the spec's gateway/… topics, with result 1 as an error", () => {
    const d = tp();
    should(d.decode("devices/attributes/response/GW-1/0000abcd", Buffer.from('{"result":0,"message":"success","ts":1}'))).eql({ kind: "uplinkAck", key: "attributes/0000abcd" });
    should(d.decode("gateway/event/response/GW-1/ff", Buffer.from('{"result":1,"errcode":"E42","message":"bad event"}'))).eql({ kind: "uplinkAck", key: "event/ff", failure: "E42: bad event" });
    (d.decode("devices/event/response/GW-1/ff", Buffer.from('{"nope":1}')) as { error: string }).error.should.match(/result/);
    should(d.decode("v1/gateway/rpc", Buffer.from("{}"))).be.null();
  });

  it("turns a command into one RPC per addressed device and answers once per message id, when all answered", () => {
    const d = tp();
    const g = d.decode("gateway/command/GW-1/m1", Buffer.from(JSON.stringify({
      gateway_data: { method: "Restart", params: { delay: 5 } },
      sub_device_data: { s1: { method: "Calibrate", params: { offset: 0.5 } } },
      sub_gateway_data: { "line-2": { sub_device_data: { s101: { method: "Reset" } } } },
    }))) as Downlink & { kind: "group" };
    g.kind.should.equal("group");
    const parts = g.parts as Array<{ kind: string; device?: string; id: number; method: string }>;
    parts.map((p) => [p.kind, p.device, p.method]).should.eql([["gatewayRpcRequest", undefined, "Restart"], ["rpcRequest", "s1", "Calibrate"], ["rpcRequest", "line-2/s101", "Reset"]]);
    const id = parts[0].id;
    const first = d.encode([{ kind: "rpcResponse", device: "s1", id, data: { ok: true } }], 65536);
    first.publishes.should.be.empty(); // carried by nothing: delivered, the response waits for the others
    const second = d.encode([{ kind: "gatewayRpcResponse", id, data: { error: "busy" } }, { kind: "rpcResponse", device: "line-2/s101", id, data: {} }], 65536);
    second.publishes.should.have.length(1);
    second.publishes[0].topic.should.equal("gateway/command/response/m1");
    second.publishes[0].carries.should.eql([1]);
    (body(second.publishes[0]) as Record<string, unknown>).should.have.properties({ result: 1, errcode: "busy", message: "busy" });
  });

  it("answers an attribute set on its response topic, and routes the values per device", () => {
    const d = tp();
    const g = d.decode("gateway/attributes/set/GW-1/m2", Buffer.from('{"sub_device_data":{"s1":{"rate":10}}}')) as Downlink & { kind: "group" };
    g.parts.should.eql([{ kind: "attributeUpdate", device: "s1", values: { rate: 10 }, deleted: [] }]);
    const p = d.encode([g.answer as Uplink], 65536).publishes;
    p[0].topic.should.equal("gateway/attributes/set/response/m2");
    (body(p[0]) as Record<string, unknown>).should.have.properties({ result: 0, message: "success" });
  });

  it("reads attribute queries and telemetry control", () => {
    const d = tp();
    const q = d.decode("gateway/attributes/get/GW-1", Buffer.from('{"gateway_data":["ip"],"sub_device_data":{"s1":[]}}')) as Downlink & { kind: "group" };
    q.parts.should.eql([{ kind: "attributeQuery", keys: ["ip"] }, { kind: "attributeQuery", device: "s1", keys: [] }]);
    const c = d.decode("gateway/telemetry/control/GW-1", Buffer.from('{"sub_device_data":{"s1":{"switch":false}}}')) as Downlink & { kind: "group" };
    (c.parts[0] as { method: string; params: unknown }).should.have.properties({ kind: "rpcRequest", device: "s1", method: "telemetry_control", params: { switch: false } });
    // A command for another gateway's device number is not this session's.
    should(d.decode("gateway/command/GW-2/m", Buffer.from("{}"))).be.null();
  });

  it("has no wire form for connect and disconnect (sub-devices are created in ThingsPanel's UI)", () => {
    const { publishes, refused } = tp().encode([{ kind: "connect", device: "s1" }, { kind: "disconnect", device: "s1" }], 65536);
    publishes.should.be.empty();
    refused.should.be.empty();
  });
});
