// The admin endpoint the modbus-source editor validates, imports and exports its map with.
import should from "should";
import { helper, load } from "../support/red";
import { sourceNode } from "./modbus-support";

interface Answer {
  rows: Array<Record<string, unknown>>;
  errors: string[];
  rowErrors: Record<string, string[]>;
  text?: string;
}

async function post(body: object): Promise<Answer> {
  const res = await (helper.request() as unknown as { post(u: string): { send(b: object): Promise<{ status: number; body: Answer }> } }).post("/modbus-source/map").send(body);
  should(res.status).equal(200);
  return res.body;
}

describe("POST /modbus-source/map (the editor's register map rules)", function () {
  beforeEach(async () => {
    await new Promise<void>((r) => helper.startServer(() => r()));
    await load([sourceNode("src", { map: [{ key: "a", area: "holding", address: 0, type: "uint16" }], connection: "" })]);
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  it("flags each bad row with its reasons, without the entry prefix", async () => {
    const a = await post({ rows: [
      { key: "ok", area: "holding", address: 0, type: "uint16" },
      { key: "w", area: "input", address: 70000, type: "int32", writable: true },
      { key: "ok", area: "coil", address: 1, type: "bool" },
    ] });
    should(a.errors).eql([]);
    should(a.rowErrors).eql({
      1: ["address must be an integer 0..65535, got 70000"],
      2: ["key ok is already used by entry 1"],
    });
  });

  it("imports CSV rows as written, the bad ones too, and reports header problems apart", async () => {
    const a = await post({ csv: "key,area,address,type,scale\nt,holding,0,int16,0.1\nbad,coil,x,bool,\n" });
    should(a.rows).eql([{ key: "t", area: "holding", address: 0, type: "int16", scale: 0.1 }, { key: "bad", area: "coil", address: "x", type: "bool" }]);
    should(a.rowErrors).eql({ 1: ['address must be an integer 0..65535, got "x"'] });
    const h = await post({ csv: "name,area,address,type\nt,holding,0,int16\n" });
    should(h.rows).eql([]);
    should(h.errors).eql(["CSV header: unknown column(s) name; expected key,area,address,type,bit,length,order,scale,offset,round,target,writable,report,deadband,periodMs", "CSV header: missing column key"]);
    const j = await post({ json: "{\"key\": 1}" });
    should(j.errors).eql(["register map JSON must be an array of entries"]);
  });

  it("exports CSV and JSON with the runtime's own writers", async () => {
    const rows = [{ key: "t", area: "holding", address: 0, type: "float32", order: "CDAB", report: { mode: "on-change", deadbandPercent: 2 } }];
    should((await post({ rows, export: "csv" })).text).equal(
      "key,area,address,type,bit,length,order,scale,offset,round,target,writable,report,deadband,periodMs\nt,holding,0,float32,,,CDAB,,,,telemetry,false,on-change,2%,\n");
    should(JSON.parse((await post({ rows, export: "json" })).text as string)).eql(rows);
  });
});
