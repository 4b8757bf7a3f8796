// The device management protocol of a managed Watson gateway, as the dialect encodes and decodes it.
import should from "should";
import { dialectFor } from "../../lib/dialect";
import type { Dialect, Encoded } from "../../lib/dialect/types";
import type { Downlink, Uplink } from "../../lib/records";
import { dmUpdate } from "../../lib/dialect/watson-dm-shapes";

const ID = { org: "abc123", typeId: "gw-type", deviceId: "gw1", managed: true };
const m = (extra: Record<string, unknown> = {}): Dialect => dialectFor("watson", { ...ID, ...extra });

function enc(d: Dialect, batch: Uplink[]): Encoded {
  return d.encode(batch, 131072, 0, { prepared: batch.map((u) => (d.validate(u) === null ? d.prepare(u) : undefined)) });
}

const json = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString()) as Record<string, unknown>;

describe("Watson IoT device management (managed gateway)", () => {
  it("subscribes to the platform's requests and answers, and is not managed unless asked", () => {
    m().subscriptions.should.containEql("iotdm-1/type/+/id/+/#");
    dialectFor("watson", { ...ID, managed: false }).subscriptions.should.not.containEql("iotdm-1/type/+/id/+/#");
    should(dialectFor("watson", { ...ID, managed: false }).gatewayAnnouncement?.()).be.undefined();
    should(m().renewMs).equal(3240000); // 90 % of 3600 s
    should(m({ lifetimeS: 0 }).renewMs).be.undefined(); // never dormant: nothing to renew
    (() => m({ lifetimeS: 600 })).should.throw(/0 \(never dormant\) or at least 3600 seconds, got 600/);
  });

  it("manages the gateway and a device (lifetime, supports, deviceInfo, metadata), then unmanages the device", () => {
    const d = m();
    const gw = enc(d, [d.gatewayAnnouncement?.() as Uplink]).publishes[0];
    gw.topic.should.equal("iotdevice-1/type/gw-type/id/gw1/mgmt/manage");
    const g = json(gw.payload);
    g.d!.should.eql({ lifetime: 3600, supports: { deviceActions: true, firmwareActions: false } });
    g.reqId!.should.be.a.String();
    const c = enc(d, [{ kind: "connect", device: "s1", profile: "sensor", metadata: { room: "lab" }, deviceInfo: { model: "X" } }]).publishes[0];
    c.topic.should.equal("iotdevice-1/type/sensor/id/s1/mgmt/manage");
    json(c.payload).d!.should.eql({ lifetime: 3600, supports: { deviceActions: true, firmwareActions: false }, deviceInfo: { model: "X" }, metadata: { room: "lab" } });
    // A re-announcement (after a reconnect, a renewal) carries no metadata: the remembered one goes.
    const again = json(enc(d, [{ kind: "connect", device: "s1", profile: "sensor" }]).publishes[0].payload);
    (again.d as Record<string, unknown>).metadata!.should.eql({ room: "lab" });
    again.reqId!.should.not.equal(json(c.payload).reqId);
    const u = enc(d, [{ kind: "disconnect", device: "s1" }]).publishes[0];
    u.topic.should.equal("iotdevice-1/type/sensor/id/s1/mgmt/unmanage");
    should(json(u.payload).d).be.undefined();
  });

  it("waits for the answer by reqId: 2xx delivers, anything else fails with rc and message; a notification on a DM topic fails its request", () => {
    const d = m();
    const p = enc(d, [{ kind: "connect", device: "s1", profile: "sensor" }]).publishes[0];
    const key = d.awaitsAck?.(p.topic, p.payload) as string;
    key.should.equal(`dm:${json(p.payload).reqId}`);
    should(d.decode("iotdm-1/type/sensor/id/s1/response", Buffer.from(JSON.stringify({ rc: 200, reqId: json(p.payload).reqId })))).eql({ kind: "uplinkAck", key });
    const q = enc(d, [{ kind: "connect", device: "s2", profile: "sensor" }]).publishes[0];
    const refused = d.decode("iotdm-1/type/sensor/id/s2/response", Buffer.from(JSON.stringify({ rc: 409, message: "busy", reqId: json(q.payload).reqId }))) as Downlink & { failure: string };
    refused.failure.should.equal('Watson IoT refused the manage of sensor/s2: rc 409, "busy"');
    const r = enc(d, [{ kind: "connect", device: "s3", profile: "sensor" }]).publishes[0];
    const note = { Request: "publish", Time: "", Topic: r.topic, Type: "sensor", Id: "s3", Client: "g:abc123:gw-type:gw1", RC: 429, Message: "Maximum number of devices per gateway has been reached." };
    (d.decode("iotdm-1/type/+/id/+/x", Buffer.from("{}")) as { error?: string }).error!.should.match(/no reqId/);
    const viaNotify = d.decode("iot-2/type/gw-type/id/gw1/notify", Buffer.from(JSON.stringify(note))) as Downlink & { key: string; failure: string };
    viaNotify.key.should.equal(d.awaitsAck?.(r.topic, r.payload));
    viaNotify.failure.should.match(/RC 429/);
    should(d.awaitsAck?.("iotdevice-1/type/sensor/id/s1/response", Buffer.from('{"rc":202,"reqId":"x"}'))).be.undefined(); // our answers await nothing
  });

  it("turns device actions into RPCs (501 when unwatched) and answers them on the response topic with the platform's reqId", () => {
    const d = m();
    const req = d.decode("iotdm-1/type/sensor/id/s1/mgmt/initiate/device/reboot", Buffer.from('{"reqId":"r-1"}')) as Extract<Downlink, { kind: "rpcRequest" }>;
    req.should.match({ kind: "rpcRequest", device: "s1", method: "reboot", extra: { deviceType: "sensor", deviceId: "s1", reqId: "r-1" }, unwatched: { rc: 501 } });
    should(d.validate({ kind: "rpcResponse", device: "s1", id: req.id, data: "ok" })).match(/must be 202 \(accepted\), 500 \(failed\) or 501/);
    should(d.validate({ kind: "rpcResponse", device: "s1", id: req.id, data: 202 })).be.null();
    const a = enc(d, [{ kind: "rpcResponse", device: "s1", id: req.id, data: { rc: 500, message: "busy" } }]).publishes[0];
    a.topic.should.equal("iotdevice-1/type/sensor/id/s1/response");
    json(a.payload).should.eql({ rc: 500, message: "busy", reqId: "r-1" });
    const own = d.decode("iotdm-1/type/gw-type/id/gw1/mgmt/initiate/device/factory_reset", Buffer.from('{"reqId":"r-2"}')) as Extract<Downlink, { kind: "gatewayRpcRequest" }>;
    own.should.match({ kind: "gatewayRpcRequest", method: "factory_reset" });
    // rpc-in's automatic answer {error} is a 500 with its reason.
    json(enc(d, [{ kind: "gatewayRpcResponse", id: own.id, data: { error: "no answer from the flow within 5000 ms" } }]).publishes[0].payload).should.eql({ rc: 500, message: "no answer from the flow within 5000 ms", reqId: "r-2" });
  });

  it("answers the platform's other requests (firmware, updates) 501 itself", () => {
    const d = m();
    const g = d.decode("iotdm-1/type/sensor/id/s1/mgmt/initiate/firmware/download", Buffer.from('{"reqId":"f-1"}')) as Extract<Downlink, { kind: "group" }>;
    g.parts.should.eql([]);
    const answer = g.answer as Extract<Uplink, { kind: "rpcResponse" }>;
    json(enc(d, [answer]).publishes[0].payload).should.match({ rc: 501, reqId: "f-1" });
  });

  it("sends location, log and errorCode events as device management updates, checked before they are queued", () => {
    const d = m();
    const up = (method: string, params: unknown): { topic: string; d: unknown } => {
      const p = enc(d, [{ kind: "connect", device: "s1", profile: "sensor" }, { kind: "event", device: "s1", method, params }]).publishes[1];
      return { topic: p.topic, d: json(p.payload).d };
    };
    up("location", { latitude: 1, longitude: 2, measuredDateTime: 0 }).should.eql({ topic: "iotdevice-1/type/sensor/id/s1/device/update/location", d: { latitude: 1, longitude: 2, measuredDateTime: "1970-01-01T00:00:00.000Z" } });
    up("errorCode", 4).should.eql({ topic: "iotdevice-1/type/sensor/id/s1/add/diag/errorCodes", d: { errorCode: 4 } });
    up("errorCode", null).should.eql({ topic: "iotdevice-1/type/sensor/id/s1/clear/diag/errorCodes", d: undefined });
    up("log", null).topic.should.equal("iotdevice-1/type/sensor/id/s1/clear/diag/log");
    (up("log", { message: "m", severity: "warning" }).d as Record<string, unknown>).should.match({ message: "m", severity: 1 });
    should(d.validate({ kind: "event", device: "s1", method: "location", params: { latitude: 91, longitude: 0 } })).match(/latitude in -90..90/);
    should(d.validate({ kind: "event", device: "s1", method: "location", params: { latitude: 1, longitude: 2, speed: 3 } })).match(/no field "speed"/);
    should(d.validate({ kind: "event", device: "s1", method: "log", params: { message: "m", severity: 3 } })).match(/severity must be 0/);
    // Not managed: the same names are ordinary events.
    should(dialectFor("watson", { ...ID, managed: false }).validate({ kind: "event", device: "s1", method: "location", params: "x" })).be.null();
    dmUpdate("log", "text", 0).should.eql({ op: "add/diag/log", d: '{"message":"text","timestamp":"1970-01-01T00:00:00.000Z","severity":0}' });
  });

  it("refuses metadata on a gateway that is not managed, and metadata that is not an object", () => {
    should(dialectFor("watson", { ...ID, managed: false }).validate({ kind: "connect", device: "s1", metadata: { a: 1 } })).match(/only from a managed gateway/);
    should(m().validate({ kind: "connect", device: "s1", metadata: [1] as unknown as Record<string, number> })).match(/msg.metadata must be an object/);
  });
});
