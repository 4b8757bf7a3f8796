import "should";
import { thingsboard } from "../../lib/dialect/thingsboard";
import { RateBudget } from "../../lib/outbox/rate-budget";
import type { PublishCost, Uplink } from "../../lib/records";

const points = (n: number): PublishCost => ({ own: false, messages: 0, telemetryMessages: 1, dataPoints: n });

describe("RateBudget", () => {
  it("keeps to 80 % of every capacity:seconds pair at once, starting empty", () => {
    let now = 0;
    const b = new RateBudget(() => now);
    b.update({ own: {}, devices: { telemetryDataPoints: [{ capacity: 1000, seconds: 1 }, { capacity: 6000, seconds: 60 }] } });
    b.deviceCaps.telemetryDataPoints.should.equal(800);
    b.waitFor(points(100)).should.be.above(0); // empty at the start: a restart must not burst
    let sent = 0;
    for (now = 0; now <= 120000; now += 50) {
      while (b.waitFor(points(100)) === 0) {
        b.take(points(100));
        sent += 100;
      }
    }
    // the minute pair binds: 80 % of 6,000 per 60 s over two minutes
    sent.should.be.within(9000, 9600);
  });

  it("keeps a bucket's state when the same limits come again after a reconnect", () => {
    let now = 0;
    const b = new RateBudget(() => now);
    const limits = { own: {}, devices: { telemetryDataPoints: [{ capacity: 100, seconds: 1 }] } };
    b.update(limits);
    now = 1000;
    b.waitFor(points(80)).should.equal(0);
    b.take(points(80));
    b.update(limits);
    b.waitFor(points(80)).should.be.above(0);
  });

  it("says Infinity for a cost no bucket can ever hold", () => {
    const b = new RateBudget(() => 0);
    b.update({ own: {}, devices: { telemetryMessages: [{ capacity: 10, seconds: 1 }] } });
    b.waitFor({ own: false, messages: 0, telemetryMessages: 9, dataPoints: 1 }).should.equal(Infinity);
  });
});

describe("ThingsBoard encode under rate caps", () => {
  const caps = { messages: 5, telemetryMessages: 3, telemetryDataPoints: 10 };

  it("closes a publish before it carries more devices or data points than one may, and charges each as the server does", () => {
    const batch: Uplink[] = ["A", "B", "C", "D"].map((device) => ({ kind: "telemetry", device, points: [{ values: { x: 1, y: 2 } }] }));
    const { publishes, refused } = thingsboard.encode(batch, 65536, 0, { caps });
    refused.should.be.empty();
    publishes.map((p) => p.cost).should.eql([
      { own: false, messages: 0, telemetryMessages: 3, dataPoints: 6 },
      { own: false, messages: 0, telemetryMessages: 1, dataPoints: 2 },
    ]);
  });

  it("splits one uplink's points and attributes over publishes, and refuses a point wider than the cap", () => {
    const many: Uplink = { kind: "telemetry", device: "A", points: Array.from({ length: 25 }, (_, i) => ({ ts: i, values: { v: i } })) };
    const attrs: Uplink = { kind: "attributes", device: "B", values: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])) };
    const wide: Uplink = { kind: "telemetry", device: "C", points: [{ values: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) }] };
    const { publishes, refused } = thingsboard.encode([many, attrs, wide], 65536, 0, { caps });
    refused.map((r) => r.index).should.eql([2]);
    publishes.every((p) => p.cost.dataPoints <= 10).should.be.true();
    publishes.filter((p) => p.topic === "v1/gateway/telemetry").reduce((n, p) => n + p.cost.dataPoints, 0).should.equal(25);
    publishes.filter((p) => p.topic === "v1/gateway/attributes").reduce((n, p) => n + p.cost.dataPoints, 0).should.equal(12);
  });

  it("charges the gateway's own RPCs to its own bucket and announcements to none", () => {
    const { publishes } = thingsboard.encode([{ kind: "gatewayRpcRequest", id: 1, method: "getSessionLimits" }, { kind: "connect", device: "A" }], 65536);
    publishes.map((p) => p.cost).should.eql([
      { own: true, messages: 1, telemetryMessages: 0, dataPoints: 0 },
      { own: false, messages: 0, telemetryMessages: 0, dataPoints: 0 },
    ]);
  });
});
