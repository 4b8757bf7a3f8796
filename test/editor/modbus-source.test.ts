// The modbus-source editor in a real Chromium against a real Node-RED: the register map table,
// CSV import that asks whether to replace the map or add to it, a bad row flagged with its reason (by the runtime's own rules), JSON export,
// and the saved map after Done + Deploy.
import * as fs from "fs";
import should from "should";
import type { Page } from "playwright-core";
import { closeDialog, editorRig, NodeRed, openNodeDialog, runtimes } from "./node-red";

const SHOT = "/tmp/modbus-source-editor.png";
const FAILED = "/tmp/modbus-source-editor-failed.png";

const FLOW = [
  { id: "t1", type: "tab", label: "modbus" },
  { id: "mbconn", type: "modbus-connection", name: "boiler line", transport: "tcp", host: "127.0.0.1", port: "1", timeout: "500", retries: "0" },
  {
    id: "mbsrc", type: "modbus-source", z: "t1", x: 300, y: 120, name: "", connection: "mbconn", device: "Boiler 1", profile: "Boiler",
    unitId: 1, period: 5, reportMode: "every-poll", deadband: "", reportPeriod: "", maxGap: "", maxRegisters: "", disconnectAfter: 0,
    map: [{ key: "temperature", area: "holding", address: 0, type: "float32" }],
    wires: [[], [], [], []],
  },
];

const CSV = [
  "key,area,address,type,bit,length,order,scale,offset,round,target,writable,report,deadband,periodMs",
  "temperature,holding,0,float32,,,CDAB,,,1,telemetry,false,on-change,0.5,",
  "pressure,holding,2,int16,,,,0.01,,,telemetry,false,,,",
  "pump,coil,5,int16,,,,,,,telemetry,true,,,",
  "serial,input,10,string,,4,,,,,attribute,false,,,",
].join("\n");

async function rows(page: Page): Promise<Array<{ key: string; invalid: boolean; error: string }>> {
  return page.$$eval("#node-input-map-container > li", (lis) => lis.map((li) => ({
    key: (li.querySelector(".mbs-key") as HTMLInputElement).value,
    invalid: li.classList.contains("mbs-invalid"),
    error: (li.querySelector(".mbs-row-error") as HTMLElement).textContent ?? "",
  })));
}

for (const runtime of runtimes()) describe(`modbus-source editor in Chromium, Node-RED ${runtime.label}`, function () {
  this.timeout(90000);
  const rig = editorRig();

  it("shows the map as a table, asks replace or add on import, flags bad rows with their reason, exports JSON, and saves the map", async () => {
    const { red, browser } = await rig.start(FLOW, ["modbus-connection", "modbus-source"], { runtime });
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // an error the editor logs counts, except resources from the internet that this sandbox cannot reach
    page.on("console", (m) => { if (m.type() === "error" && !/ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/.test(m.text())) pageErrors.push(`console: ${m.text()}`); });
    try {
      await edit(page, red);
    } catch (err) {
      await page.screenshot({ path: FAILED, fullPage: true }).catch(() => undefined);
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${FAILED}; page errors: ${pageErrors.join(" | ")})`);
    }
    should(pageErrors).eql([]);
    should(fs.existsSync(SHOT)).be.true();
  });
});

async function edit(page: Page, red: NodeRed): Promise<void> {
    await page.goto(red.url);
    await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });

    // open the node's edit dialog the way a user does
    await openNodeDialog(page, "mbsrc");
    await page.waitForSelector("#node-input-map-container > li .mbs-key", { timeout: 10000 });
    should((await rows(page)).map((r) => r.key)).eql(["temperature"]);
    await page.waitForFunction(() => /1 entries, valid/.test(document.querySelector("#mbs-map-summary")?.textContent ?? ""));

    // importing over a map asks first: adding keeps the row there (whose key then repeats)
    await page.fill("#mbs-map-text", CSV);
    await page.click("#mbs-import");
    await page.click("#mbs-import-add");
    await page.waitForFunction(() => document.querySelectorAll("#node-input-map-container > li").length === 5 && document.querySelectorAll("#node-input-map-container > li.mbs-invalid").length === 2);
    should((await rows(page)).map((r) => r.key)).eql(["temperature", "temperature", "pressure", "pump", "serial"]);
    should((await rows(page))[1].error).match(/already used/);
    // replacing leaves the imported rows only
    await page.click("#mbs-import");
    await page.click("#mbs-import-replace");
    await page.waitForFunction(() => document.querySelectorAll("#node-input-map-container > li").length === 4 && document.querySelectorAll("#node-input-map-container > li.mbs-invalid").length === 1);
    const table = await rows(page);
    should(table.map((r) => r.key)).eql(["temperature", "pressure", "pump", "serial"]);
    should(table.map((r) => r.invalid)).eql([false, false, true, false]);
    should(table[2].error).equal("type int16 needs 1 register, area coil holds bits (use type bool)");
    should(await page.textContent("#mbs-map-summary")).equal("4 entries, 1 invalid");
    // the cells hold what the CSV said
    const first = await page.$eval("#node-input-map-container > li:first-child", (li) => ({
      order: (li.querySelector(".mbs-order") as HTMLSelectElement).value,
      round: (li.querySelector(".mbs-round") as HTMLInputElement).value,
      report: (li.querySelector(".mbs-report") as HTMLSelectElement).value,
      deadband: (li.querySelector(".mbs-deadband") as HTMLInputElement).value,
    }));
    should(first).eql({ order: "CDAB", round: "1", report: "on-change", deadband: "0.5" });
    await page.screenshot({ path: SHOT, fullPage: true });

    await page.click("#mbs-export-json");
    await page.waitForFunction(() => ((document.querySelector("#mbs-map-text") as HTMLTextAreaElement).value || "").startsWith("["));
    const exported = JSON.parse(await page.inputValue("#mbs-map-text")) as Array<Record<string, unknown>>;
    should(exported.map((e) => e.key)).eql(["temperature", "pressure", "pump", "serial"]);
    should(exported[0]).eql({ key: "temperature", area: "holding", address: 0, type: "float32", order: "CDAB", round: 1, report: { mode: "on-change", deadband: 0.5 } });
    should(exported[3]).eql({ key: "serial", area: "input", address: 10, type: "string", length: 4, target: "attribute" });

    // the user fixes the row: pump is a coil, so bool
    await page.selectOption("#node-input-map-container > li:nth-child(3) .mbs-type", "bool");
    await page.waitForFunction(() => document.querySelectorAll("#node-input-map-container > li.mbs-invalid").length === 0);
    should(await page.textContent("#mbs-map-summary")).equal("4 entries, valid");

    await closeDialog(page, "#node-dialog-ok", "#node-dialog-ok", "the modbus-source dialog");
    await page.click("#red-ui-header-button-deploy");
    const saved = await waitFor(() => {
      const src = red.savedFlows().find((n) => n.id === "mbsrc");
      return src && Array.isArray(src.map) && src.map.length === 4 ? (src.map as Array<Record<string, unknown>>) : undefined;
    });
    should(saved[2]).eql({ key: "pump", area: "coil", address: 5, type: "bool", writable: true });
    should(saved[1]).eql({ key: "pressure", area: "holding", address: 2, type: "int16", scale: 0.01 });
}

async function waitFor<T>(probe: () => T | undefined, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting for the deploy to be saved");
    await new Promise((r) => setTimeout(r, 100));
  }
}
