import should from "should";
import { thingsboard as tb } from "../../lib/dialect/thingsboard";
import type { Uplink } from "../../lib/records";

function body(p: { payload: Buffer }): unknown {
  return JSON.parse(p.payload.toString());
}

describe("ThingsBoard dialect", () => {
  describe("encode", () => {
    it("keeps every packet's remaining length (topic, packet id, properties, payload) under the limit", () => {
      const batch: Uplink[] = [];
      for (let i = 0; i < 3000; i++) batch.push({ kind: "telemetry", device: `D${i % 30}`, points: [{ ts: 1700000000000 + i, values: { v: i, s: "z".repeat(i % 50) } }] });
      for (const props of [0, 1]) {
        for (const max of [4096, 65536]) {
          const { publishes, refused } = tb.encode(batch, max, props);
          refused.should.have.length(0);
          for (const p of publishes) (2 + Buffer.byteLength(p.topic) + 2 + props + p.payload.length).should.be.belowOrEqual(max);
          // Tight: the split leaves no more than one point's worth unused.
          publishes.slice(0, -1).some((p) => 2 + Buffer.byteLength(p.topic) + 2 + props + p.payload.length > max - 120).should.be.true();
        }
      }
    });

    it("merges telemetry of many devices into one array-form publish, in order", () => {
      const batch: Uplink[] = [
        { kind: "telemetry", device: "A", points: [{ ts: 1, values: { t: 1 } }] },
        { kind: "telemetry", device: "B", points: [{ values: { t: 2 } }] },
        { kind: "telemetry", device: "A", points: [{ ts: 3, values: { t: 3 } }] },
      ];
      const { publishes, refused } = tb.encode(batch, 65536);
      refused.should.be.empty();
      publishes.should.have.length(1);
      publishes[0].topic.should.equal("v1/gateway/telemetry");
      should(body(publishes[0])).eql({ A: [{ ts: 1, values: { t: 1 } }, { ts: 3, values: { t: 3 } }], B: [{ t: 2 }] });
      publishes[0].carries.should.eql([0, 1, 2]);
    });

    it("splits so that no publish exceeds the max payload, and every byte count is exact", () => {
      const batch: Uplink[] = [];
      for (let i = 0; i < 500; i++) batch.push({ kind: "telemetry", device: `Device ${i % 7}`, points: [{ ts: 1700000000000 + i, values: { temperature: 20 + i / 10, label: "é".repeat(i % 5) } }] });
      const { publishes } = tb.encode(batch, 1000);
      publishes.length.should.be.above(10);
      let points = 0;
      for (const p of publishes) {
        p.payload.length.should.be.belowOrEqual(1000);
        const b = body(p) as Record<string, unknown[]>;
        for (const list of Object.values(b)) points += list.length;
      }
      points.should.equal(500);
    });

    it("keeps a device's later telemetry behind its disconnect", () => {
      const batch: Uplink[] = [
        { kind: "telemetry", device: "A", points: [{ values: { n: 1 } }] },
        { kind: "disconnect", device: "A" },
        { kind: "telemetry", device: "A", points: [{ values: { n: 2 } }] },
        { kind: "telemetry", device: "B", points: [{ values: { n: 3 } }] },
      ];
      const { publishes } = tb.encode(batch, 65536);
      publishes.map((p) => p.topic).should.eql(["v1/gateway/telemetry", "v1/gateway/disconnect", "v1/gateway/telemetry"]);
      should(body(publishes[0])).eql({ A: [{ n: 1 }] });
      should(body(publishes[2])).eql({ A: [{ n: 2 }], B: [{ n: 3 }] });
    });

    it("refuses a single point larger than the max payload and still sends the rest", () => {
      const batch: Uplink[] = [
        { kind: "telemetry", device: "A", points: [{ values: { big: "x".repeat(2000) } }] },
        { kind: "telemetry", device: "B", points: [{ values: { n: 1 } }] },
      ];
      const { publishes, refused } = tb.encode(batch, 1024);
      refused.should.have.length(1);
      refused[0].index.should.equal(0);
      refused[0].reason.should.match(/over the server's limit of 1024/);
      publishes.should.have.length(1);
      should(body(publishes[0])).eql({ B: [{ n: 1 }] });
    });

    it("encodes connect, attributes, attribute requests, RPC replies and claims as the server reads them", () => {
      const batch: Uplink[] = [
        { kind: "connect", device: "A", profile: "Thermometer" },
        { kind: "connect", device: "B" },
        { kind: "attributes", device: "A", values: { fw: "1.0", n: 1 } },
        { kind: "attributes", device: "A", values: { n: 2 } },
        { kind: "attributeRequest", device: "A", id: 7, scope: "shared", keys: ["k"] },
        { kind: "attributeRequest", device: "A", id: 8, scope: "client", keys: ["a", "b"] },
        { kind: "rpcResponse", device: "A", id: 3, data: { ok: true } },
        { kind: "claim", device: "A", secretKey: "s", durationMs: 60000 },
        { kind: "claim", device: "B" },
        { kind: "gatewayRpcRequest", id: 5, method: "getSessionLimits" },
      ];
      const { publishes } = tb.encode(batch, 65536);
      const byTopic = publishes.map((p) => [p.topic, body(p)]);
      byTopic.should.eql([
        ["v1/gateway/connect", { device: "A", type: "Thermometer" }],
        ["v1/gateway/connect", { device: "B" }],
        ["v1/gateway/attributes", { A: { fw: "1.0", n: 2 } }],
        ["v1/gateway/attributes/request", { id: 7, device: "A", client: false, key: "k" }],
        ["v1/gateway/attributes/request", { id: 8, device: "A", client: true, keys: ["a", "b"] }],
        ["v1/gateway/rpc", { device: "A", id: 3, data: { ok: true } }],
        ["v1/gateway/claim", { A: { secretKey: "s", durationMs: 60000 }, B: {} }],
        ["v1/devices/me/rpc/request/5", { method: "getSessionLimits" }],
      ]);
    });

    it("writes each point's ts exactly as JSON.stringify would, whatever the number", () => {
      const tss = [0, 1, 999999, 1e6, 1000001, 1700000000000, 1764772000000, 1764772000001.5, 8999999999999999, 9e15, 1e21, 2 ** 53 - 1, 0.5, 5e-7];
      for (let i = 0; i < 2000; i++) tss.push(Math.floor(Math.random() * 9e15), Math.random() * 1e13);
      const batch: Uplink[] = tss.map((ts, i) => ({ kind: "telemetry", device: "A", points: [{ ts, values: { v: i } }] }));
      const { publishes } = tb.encode(batch, 1 << 20, 0, { prepared: batch.map((u) => tb.prepare(u)) });
      publishes.should.have.length(1);
      publishes[0].payload.toString().should.equal(JSON.stringify({ A: tss.map((ts, i) => ({ ts, values: { v: i } })) }));
    });
    it("writes each point's values exactly as JSON.stringify would", () => {
      const inherited = Object.create({ up: 1 }) as Record<string, unknown>;
      inherited.own = 2;
      const valuesList: Array<Record<string, unknown>> = [
        { temperature: 20.1, humidity: 40 },
        { a: -0, b: 1e21, c: 5e-7, d: 1764772000000, e: -3.25, f: 2 ** 53 },
        { on: true, off: false, none: null },
        { "2": 1, "1": 2, b: 3, a: 4 },
        { 'qu"ote': 1, "back\\slash": 2, "ü-ñ 温度": 3, "\u0001": 4 },
        { s: "text", n: 1 },
        { nested: { x: [1, 2] }, n: 1 },
        inherited,
      ];
      const batch: Uplink[] = valuesList.map((values, i) => ({ kind: "telemetry", device: "A", points: [{ ts: 1700000000000 + i, values: values as never }] }));
      const { publishes } = tb.encode(batch, 1 << 20, 0, { prepared: batch.map((u) => tb.prepare(u)) });
      publishes[0].payload.toString().should.equal(JSON.stringify({ A: valuesList.map((values, i) => ({ ts: 1700000000000 + i, values })) }));
    });
    it("sends the announcements of new devices first, not between their telemetry, which stays in one publish", () => {
      // As the session queues them when 100 devices send their first point: connect, telemetry, connect, …
      const batch: Uplink[] = [];
      for (let i = 0; i < 100; i++) batch.push({ kind: "connect", device: `D${i}` }, { kind: "telemetry", device: `D${i}`, points: [{ ts: i, values: { v: i } }] });
      batch.push({ kind: "telemetry", device: "D0", points: [{ ts: 100, values: { v: 100 } }] }, { kind: "connect", device: "D0", profile: "P" }, { kind: "telemetry", device: "D0", points: [{ ts: 101, values: { v: 101 } }] });
      const { publishes, refused } = tb.encode(batch, 65536, 0);
      refused.should.have.length(0);
      publishes.map((p) => p.topic).should.eql([...Array<string>(100).fill("v1/gateway/connect"), "v1/gateway/telemetry", "v1/gateway/connect", "v1/gateway/telemetry"]);
      (body(publishes[100]) as Record<string, unknown[]>).D0.should.have.length(2);
      Object.keys(body(publishes[100]) as object).should.have.length(100);
      should(body(publishes[101])).eql({ device: "D0", type: "P" }); // a second announcement stays in its place: after what came before it
      should(body(publishes[102])).eql({ D0: [{ ts: 101, values: { v: 101 } }] });
      // Every entry is carried, each device's uplinks in order.
      publishes.flatMap((p) => p.carries).sort((a, b) => a - b).should.eql(batch.map((_, i) => i));
    });
  });

  describe("validate", () => {
    const bad: Array<[string, Uplink, RegExp]> = [
      ["NaN", { kind: "telemetry", device: "A", points: [{ values: { t: NaN } }] }, /finite number, got NaN/],
      ["Infinity", { kind: "telemetry", device: "A", points: [{ values: { t: Infinity } }] }, /finite number, got Infinity/],
      ["empty values", { kind: "telemetry", device: "A", points: [{ values: {} }] }, /has no values/],
      ["string ts", { kind: "telemetry", device: "A", points: [{ ts: "now" as unknown as number, values: { t: 1 } }] }, /ts must be a number/],
      ["missing device", { kind: "telemetry", device: "", points: [{ values: { t: 1 } }] }, /device name must be a non-empty string/],
      ["values not an object", { kind: "attributes", device: "A", values: 5 as unknown as Record<string, number> }, /must be an object/],
      ["undefined value", { kind: "telemetry", device: "A", points: [{ values: { t: undefined as unknown as number } }] }, /got undefined/],
      ["empty key", { kind: "telemetry", device: "A", points: [{ values: { "": 1 } }] }, /empty key/],
    ];
    for (const [what, u, re] of bad) {
      it(`refuses ${what}`, () => should(tb.validate(u)).match(re));
    }
    it("accepts nested JSON values, booleans, strings and null", () => {
      should(tb.validate({ kind: "telemetry", device: "A", points: [{ values: { o: { a: [1, "x"] }, b: true, s: "x", n: null } }] })).be.null();
    });
  });

  describe("decode", () => {
    const dec = (topic: string, v: unknown) => tb.decode(topic, Buffer.from(typeof v === "string" ? v : JSON.stringify(v)));
    it("reads shared attribute updates with deleted keys", () => {
      should(dec("v1/gateway/attributes", { device: "A", data: { mode: "eco", deleted: ["old"] } })).eql({ kind: "attributeUpdate", device: "A", values: { mode: "eco" }, deleted: ["old"] });
    });
    it("reads attribute responses with value, values, or neither", () => {
      should(dec("v1/gateway/attributes/response", { id: 1, device: "A", value: 5 })).eql({ kind: "attributeResponse", id: 1, device: "A", value: 5 });
      should(dec("v1/gateway/attributes/response", { id: 2, device: "A", values: { a: 1 } })).eql({ kind: "attributeResponse", id: 2, device: "A", values: { a: 1 } });
      should(dec("v1/gateway/attributes/response", { id: 3, device: "A" })).eql({ kind: "attributeResponse", id: 3, device: "A" });
    });
    it("reads RPC requests, renames and deletes", () => {
      should(dec("v1/gateway/rpc", { device: "A", data: { id: 4, method: "set", params: { v: 1 } } })).eql({ kind: "rpcRequest", device: "A", id: 4, method: "set", params: { v: 1 } });
      should(dec("v1/devices/me/rpc/request/9", { method: "gateway_device_renamed", params: { A: "B" } })).eql({ kind: "deviceRenamed", id: 9, from: "A", to: "B" });
      should(dec("v1/devices/me/rpc/request/10", { method: "gateway_device_deleted", params: "A" })).eql({ kind: "deviceDeleted", id: 10, device: "A" });
      should(dec("v1/devices/me/rpc/response/11", { maxPayloadSize: 1000 })).eql({ kind: "gatewayRpcResponse", id: 11, data: { maxPayloadSize: 1000 } });
    });
    it("reports malformed messages as errors instead of throwing", () => {
      should(dec("v1/gateway/rpc", "{not json")).have.property("error").match(/invalid JSON/);
      should(dec("v1/gateway/rpc", { device: "A", data: "x" })).have.property("error").match(/unexpected message/);
      should(dec("v1/gateway/attributes", [1, 2])).have.property("error");
      should(dec("some/other/topic", {})).be.null();
    });
  });
});
