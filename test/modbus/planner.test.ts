import should from "should";
import { planReads } from "../../lib/modbus/planner";
import { assertValidMap } from "../../lib/modbus/register-map";
import type { MapEntry, PlanOptions } from "../../lib/modbus/types";

function reg(key: string, address: number, type: MapEntry["type"] = "uint16", extra: Partial<MapEntry> = {}): MapEntry {
  return { key, area: "holding", address, type, ...extra };
}

function plan(entries: MapEntry[], o?: PlanOptions): Array<[string, number, number, string[]]> {
  const map = assertValidMap(entries);
  const { plan: p, errors } = planReads(map, o);
  should(errors).eql([]);
  return p.requests.map((r) => [r.area, r.address, r.count, r.entries.map((i) => map[i].key)]);
}

describe("modbus read planner", () => {
  it("merges adjacent registers of one area into one request", () => {
    should(plan([reg("a", 0), reg("b", 1), reg("c", 2, "float32"), reg("d", 4, "float64")])).eql([["holding", 0, 8, ["a", "b", "c", "d"]]]);
  });

  it("keeps areas apart and orders them coil, discrete, holding, input", () => {
    const r = plan([
      reg("i", 0, "uint16", { area: "input" }),
      reg("h", 0),
      { key: "c", area: "coil", address: 0, type: "bool" },
      { key: "d", area: "discrete", address: 0, type: "bool" },
    ]);
    should(r.map((x) => x[0])).eql(["coil", "discrete", "holding", "input"]);
  });

  it("bridges gaps up to maxGap and no further", () => {
    should(plan([reg("a", 0), reg("b", 11)])).eql([["holding", 0, 12, ["a", "b"]]]); // gap 10 = default
    should(plan([reg("a", 0), reg("b", 12)])).have.length(2); // gap 11
    should(plan([reg("a", 0), reg("b", 3)], { maxGapRegisters: 1 })).have.length(2);
    should(plan([reg("a", 0), reg("b", 2)], { maxGapRegisters: 1 })).eql([["holding", 0, 3, ["a", "b"]]]);
    should(plan([reg("a", 0), reg("b", 1)], { maxGapRegisters: 0 })).have.length(1);
  });

  it("bridges bit gaps by maxGapBits", () => {
    const c = (key: string, address: number): MapEntry => ({ key, area: "coil", address, type: "bool" });
    should(plan([c("a", 0), c("b", 65)])).eql([["coil", 0, 66, ["a", "b"]]]);
    should(plan([c("a", 0), c("b", 66)])).have.length(2);
  });

  it("never exceeds 125 registers per request, and never splits an entry", () => {
    const entries: MapEntry[] = [];
    for (let i = 0; i < 300; i++) entries.push(reg(`r${i}`, i));
    const r = plan(entries);
    should(r.map((x) => x[2])).eql([125, 125, 50]);
    // a float32 at 124..125 does not fit the first request: it starts the second
    const f = plan([reg("a", 0), reg("b", 123), reg("f", 124, "float32")], { maxGapRegisters: 125 });
    should(f).eql([["holding", 0, 124, ["a", "b"]], ["holding", 124, 2, ["f"]]]);
    should(plan([reg("a", 0), reg("s", 1, "string", { length: 124 })])).eql([["holding", 0, 125, ["a", "s"]]]);
    should(plan([reg("a", 0), reg("s", 1, "string", { length: 125 })])).have.length(2);
  });

  it("respects a smaller maxRegisters and the 2000-bit limit", () => {
    const entries: MapEntry[] = [];
    for (let i = 0; i < 20; i++) entries.push(reg(`r${i}`, i));
    should(plan(entries, { maxRegisters: 8 }).map((x) => x[2])).eql([8, 8, 4]);
    const coils: MapEntry[] = [];
    for (let i = 0; i < 4500; i += 3) coils.push({ key: `c${i}`, area: "coil", address: i, type: "bool" });
    const r = plan(coils);
    should(r.every((x) => x[2] <= 2000)).be.true();
    should(r).have.length(3);
  });

  it("serves duplicate addresses and bits of one register from one read", () => {
    should(plan([
      reg("raw", 10),
      reg("same", 10, "int16"),
      reg("b0", 10, "bit", { bit: 0 }),
      reg("b7", 10, "bit", { bit: 7 }),
      reg("pair", 9, "int32"),
    ])).eql([["holding", 9, 2, ["pair", "raw", "same", "b0", "b7"]]]);
  });

  it("does not bridge over a forbidden range, and refuses entries inside one", () => {
    should(plan([reg("a", 0), reg("b", 5)], { forbidden: [{ area: "holding", start: 2, end: 3 }] })).eql([
      ["holding", 0, 1, ["a"]],
      ["holding", 5, 1, ["b"]],
    ]);
    // a forbidden range of another area does not matter; one without area applies to all
    should(plan([reg("a", 0), reg("b", 5)], { forbidden: [{ area: "input", start: 2, end: 3 }] })).have.length(1);
    should(plan([reg("a", 0), reg("b", 5)], { forbidden: [{ start: 4, end: 4 }] })).have.length(2);
    const map = assertValidMap([reg("a", 0), reg("f", 2, "float32")]);
    const { errors } = planReads(map, { forbidden: [{ area: "holding", start: 3, end: 3 }] });
    should(errors).eql(["entry 2 (f): reads holding 2..3, which overlaps forbidden range 3..3"]);
  });

  it("reports bad options", () => {
    const { errors } = planReads([], { maxRegisters: 126, maxBits: 0, forbidden: [{ start: 5, end: 4 }] });
    should(errors).eql([
      "maxRegisters must be an integer 1..125",
      "maxBits must be an integer 1..2000",
      "forbidden range 1: start/end must be integers with 0 <= start <= end <= 65535",
    ]);
  });

  it("reads far fewer requests than one per key for a typical meter map", () => {
    const entries: MapEntry[] = [];
    for (let i = 0; i < 40; i++) entries.push(reg(`v${i}`, 3000 + i * 2, "float32"));
    should(plan(entries)).have.length(1);
  });
});
