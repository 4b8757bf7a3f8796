// The arithmetic behind the statistics report, alone: the period bounds of gateway-config, the
// latency quantiles, and counts per report (since the previous one that was sent).
import should from "should";
import { GatewayStats, quantile } from "../../lib/session/stats";
import { StatsReporter, statsPeriodMs, type StatsSource } from "../../lib/session/stats-report";
import type { Uplink } from "../../lib/records";

function source(stats: GatewayStats, sent: Uplink[], connected = { value: true }): StatsSource {
  return {
    stats,
    get connected() {
      return connected.value;
    },
    rateWaitedMs: () => 0,
    deviceCount: () => 3,
    sendOwn: (u) => {
      sent.push(u);
      return Promise.resolve();
    },
    warn: () => undefined,
  };
}

describe("gateway device: the statistics figures", () => {
  it("keeps the period within 10 s to 1 h, and 0 (or blank, negative) turns it off", () => {
    statsPeriodMs(0).should.equal(0);
    statsPeriodMs(-5).should.equal(0);
    statsPeriodMs(NaN).should.equal(0);
    statsPeriodMs(1).should.equal(10000);
    statsPeriodMs(60).should.equal(60000);
    statsPeriodMs(99999).should.equal(3600000);
  });

  it("takes latency quantiles by nearest rank", () => {
    should(quantile([], 0.5)).be.undefined();
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    should(quantile(hundred, 0.5)).equal(50);
    should(quantile(hundred, 0.99)).equal(99);
    should(quantile([7], 0.99)).equal(7);
  });

  it("reports counts since the previous report, and makes none while disconnected (the next one covers the span)", () => {
    const stats = new GatewayStats();
    const sent: Uplink[] = [];
    const connected = { value: true };
    const reporter = new StatsReporter(source(stats, sent, connected), 0, () => ({ store: "memory", waiting: 4, cap: {}, growthPerS: 0, oldestAgeMs: 1500 }));
    stats.received([{ kind: "telemetry", device: "A", points: [{ values: { a: 1, b: 2 } }, { values: { c: 3 } }] }]);
    stats.received([{ kind: "attributes", device: "A", values: { x: 1 } }]);
    stats.ended(Object.assign(new Error("full"), { code: "full" }));
    reporter.report();
    connected.value = false;
    stats.received([{ kind: "telemetry", device: "A", points: [{ values: { a: 1 } }] }]);
    reporter.report(); // offline: nothing
    connected.value = true;
    stats.received([{ kind: "telemetry", device: "A", points: [{ values: { a: 2 } }] }]);
    reporter.report();
    sent.should.have.length(2);
    const values = sent.map((u) => (u.kind === "gatewayTelemetry" ? u.points[0].values : {}));
    values[0].should.have.properties({ msgsIn: 2, pointsIn: 4, droppedMsgs: 1, waitingMsgs: 4, oldestWaitingAgeMs: 1500, devices: 3 });
    values[1].should.have.properties({ msgsIn: 2, pointsIn: 2, droppedMsgs: 0 });
    should(values[0]).not.have.property("pubackP50Ms"); // no publish acknowledged in the period
  });
});
