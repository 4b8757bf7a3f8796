import should from "should";
import { Reporter, shouldReport } from "../../lib/modbus/report";

describe("modbus report strategies", () => {
  it("every-poll (and no policy) reports everything", () => {
    should(shouldReport(undefined, { value: 1, ts: 0 }, 1, 10)).be.true();
    should(shouldReport({ mode: "every-poll" }, { value: 1, ts: 0 }, 1, 10)).be.true();
  });

  it("on-change reports the first value and changes beyond the absolute deadband", () => {
    const p = { mode: "on-change" as const, deadband: 0.5 };
    should(shouldReport(p, undefined, 20, 0)).be.true();
    should(shouldReport(p, { value: 20, ts: 0 }, 20.5, 1)).be.false();
    should(shouldReport(p, { value: 20, ts: 0 }, 20.51, 1)).be.true();
    should(shouldReport(p, { value: 20, ts: 0 }, 19.4, 1)).be.true();
    should(shouldReport({ mode: "on-change" }, { value: 1, ts: 0 }, 1, 1)).be.false();
    should(shouldReport({ mode: "on-change" }, { value: 1, ts: 0 }, 1.0001, 1)).be.true();
    should(shouldReport({ mode: "on-change" }, { value: true, ts: 0 }, false, 1)).be.true();
    should(shouldReport({ mode: "on-change" }, { value: "a", ts: 0 }, "a", 1)).be.false();
  });

  it("on-change with a percent deadband is relative to the last reported value", () => {
    const p = { mode: "on-change" as const, deadbandPercent: 10 };
    should(shouldReport(p, { value: 200, ts: 0 }, 219, 1)).be.false();
    should(shouldReport(p, { value: 200, ts: 0 }, 221, 1)).be.true();
    should(shouldReport(p, { value: -200, ts: 0 }, -179, 1)).be.true();
  });

  it("period reports once per period regardless of change", () => {
    const p = { mode: "period" as const, periodMs: 1000 };
    should(shouldReport(p, { value: 1, ts: 0 }, 5, 999)).be.false();
    should(shouldReport(p, { value: 1, ts: 0 }, 1, 1000)).be.true();
  });

  it("change-or-period reports on change or when the period is due", () => {
    const p = { mode: "change-or-period" as const, periodMs: 1000, deadband: 1 };
    should(shouldReport(p, { value: 1, ts: 0 }, 1.5, 500)).be.false();
    should(shouldReport(p, { value: 1, ts: 0 }, 3, 500)).be.true();
    should(shouldReport(p, { value: 1, ts: 0 }, 1, 1000)).be.true();
  });

  it("Reporter compares with the last reported value, so slow drift is reported once it adds up", () => {
    const r = new Reporter(new Map([["t", { mode: "on-change" as const, deadband: 1 }], ["x", undefined]]));
    should(r.filter({ t: 20, x: 1 }, 0)).eql({ t: 20, x: 1 });
    should(r.filter({ t: 20.6, x: 1 }, 1)).eql({ x: 1 });
    should(r.filter({ t: 21.2, x: 1 }, 2)).eql({ t: 21.2, x: 1 });
    r.reset();
    should(r.filter({ t: 21.2, x: 2 }, 3)).eql({ t: 21.2, x: 2 });
  });
});
