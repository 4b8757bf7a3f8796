import should from "should";
import { mapToCsv, parseMapCsv } from "../../lib/modbus/map-csv";
import { mapToJson, parseMapJson, validateMap } from "../../lib/modbus/register-map";
import type { MapEntry } from "../../lib/modbus/types";

const GOOD: MapEntry[] = [
  { key: "temp", area: "input", address: 0, type: "int16", scale: 0.1, round: 1, report: { mode: "on-change", deadband: 0.2 } },
  { key: "energy", area: "holding", address: 10, type: "float32", order: "CDAB", target: "telemetry", writable: true },
  { key: "serial", area: "holding", address: 20, type: "string", length: 8, target: "attribute", report: { mode: "period", periodMs: 60000 } },
  { key: "alarm", area: "holding", address: 30, type: "bit", bit: 3, report: { mode: "change-or-period", deadbandPercent: 5, periodMs: 1000 } },
  { key: "pump", area: "coil", address: 0, type: "bool", writable: true },
  { key: "name, \"quoted\"", area: "discrete", address: 7, type: "bool" },
  { key: "big", area: "holding", address: 40, type: "uint64", order: "DCBA", offset: -5 },
];

describe("modbus register map", () => {
  it("accepts a good map and fills defaults", () => {
    const { entries, errors } = validateMap(GOOD);
    should(errors).eql([]);
    should(entries[0]).containEql({ order: "ABCD", target: "telemetry", writable: false });
  });

  it("names the entry and the problem for each bad entry", () => {
    const { errors } = validateMap([
      { key: "ok", area: "holding", address: 0, type: "uint16" },
      { key: "x", area: "holding", address: 70000, type: "uint16" },
      { key: "temp", area: "coil", address: 3, type: "float32" },
      { key: "b", area: "holding", address: 1, type: "bit" },
      { key: "s", area: "input", address: 1, type: "string" },
      { key: "ok", area: "holding", address: 2, type: "uint16" },
      { key: "w", area: "input", address: 2, type: "uint16", writable: true },
      { key: "z", area: "holding", address: 2, type: "uint16", scale: 0 },
      { key: "p", area: "holding", address: 2, type: "uint16", report: { mode: "period" } },
      { key: "e", area: "holding", address: 65535, type: "float32" },
      { key: "f", area: "holding", address: 1, type: "uint16", order: "ABDC" },
      "nope",
      { key: "c", area: "coil", address: 1, type: "int16", bit: 2 },
      { key: "bb", area: "holding", address: 3, type: "bool" },
    ]);
    should(errors).eql([
      "entry 2 (x): address must be an integer 0..65535, got 70000",
      "entry 3 (temp): type float32 needs 2 registers, area coil holds bits (use type bool)",
      "entry 4 (b): type bit needs bit 0..15, got undefined",
      "entry 5 (s): type string needs length 1..125 (registers, 2 characters each), got undefined",
      "entry 6 (ok): key ok is already used by entry 1",
      "entry 7 (w): area input is read-only; only coil and holding entries can be writable",
      "entry 8 (z): scale must not be 0 (writes divide by it)",
      "entry 9 (p): report mode period needs periodMs",
      "entry 10 (e): spans past address 65535 (2 registers from 65535)",
      "entry 11 (f): order must be one of ABCD, BADC, CDAB, DCBA, got \"ABDC\"",
      "entry 12: must be an object",
      "entry 13 (c): type int16 needs 1 register, area coil holds bits (use type bool)",
      "entry 13 (c): bit only applies to type bit",
      "entry 14 (bb): type bool needs area coil or discrete; for a bit of a holding register use type bit with bit 0..15",
    ]);
    should(validateMap({}).errors).eql(["register map must be an array of entries"]);
    should(validateMap([]).errors).eql(["register map is empty"]);
  });

  it("round-trips through CSV", () => {
    const csv = mapToCsv(validateMap(GOOD).entries);
    should(csv.split("\n")[0]).equal("key,area,address,type,bit,length,order,scale,offset,round,target,writable,report,deadband,periodMs");
    should(csv).containEql('"name, ""quoted"""');
    const back = parseMapCsv(csv);
    should(back.errors).eql([]);
    should(back.entries).eql(validateMap(GOOD).entries.map((e) => ({ ...e, report: e.report ?? { mode: "every-poll" } })));
  });

  it("reads hand-written CSV with defaults and reports errors by line", () => {
    const r = parseMapCsv("key,area,address,type,scale\r\ntemp,input,0,int16,0.1\r\n\r\nbad,coil,x,bool,\r\n");
    should(r.errors).eql(['line 3: entry 2 (bad): address must be an integer 0..65535, got "x"']);
    should(r.entries[0]).containEql({ key: "temp", scale: 0.1, order: "ABCD" });
    should(parseMapCsv("key,area,addr,type\n").errors[0]).match(/unknown column\(s\) addr/);
  });

  it("round-trips through JSON, leaving defaults out", () => {
    const json = mapToJson(validateMap(GOOD).entries);
    should(json).not.containEql('"order": "ABCD"');
    const back = parseMapJson(json);
    should(back.errors).eql([]);
    should(back.entries).eql(validateMap(GOOD).entries);
    should(parseMapJson("[{").errors[0]).match(/^register map is not valid JSON/);
  });
});
