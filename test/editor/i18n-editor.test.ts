// The editor in other languages, in a real Chromium against a real Node-RED: with the editor in
// German a node's help in the help sidebar is the de page (Node-RED picks it by the editor's
// language); errors reach the debug sidebar as text, the whole sentence (an Error object shows
// there as a collapsed object whose message is cut after 30 characters); and no dialog's field
// label wraps onto a second line in en-US, de or zh-CN.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import type { Page } from "playwright-core";
import { closeDialog, editorRig, NodeRed, openNodeDialog, runtimes } from "./node-red";
import { DIALOGS, FLOW as DIALOG_FLOW, type DialogSpec } from "./dialog-fields";

const TYPES = ["gateway-config", "telemetry-out", "rpc-response"];

const FLOW = [
  { id: "t1", type: "tab", label: "i18n" },
  { id: "gw1", type: "gateway-config", name: "plant", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1" },
  { id: "to1", type: "telemetry-out", z: "t1", x: 200, y: 80, name: "", gateway: "gw1", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
  // a msg with no device and no msg.rpc: both nodes end it with an error
  { id: "inj", type: "inject", z: "t1", x: 200, y: 200, name: "", props: [{ p: "payload", v: '{"t": 1}', vt: "json" }], repeat: "", once: false, wires: [["to2", "rr"]] },
  { id: "to2", type: "telemetry-out", z: "t1", x: 420, y: 200, name: "", gateway: "gw1", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
  { id: "rr", type: "rpc-response", z: "t1", x: 420, y: 280, name: "", gateway: "gw1", wires: [] },
];

const SENTENCES: Record<string, string> = {
  to2: 'telemetry-out: no device: set one in the node or msg.device, or send {"Device A": [...], "Device B": [...]} in msg.payload',
  rr: "rpc-response: msg.rpc is missing: answer the msg that came out of an rpc-in node (keep its msg.rpc)",
};

type Win = { RED: { sidebar: { show(id: string): void } } };

async function germanHelp(page: Page, red: NodeRed): Promise<void> {
  // the language a user picks in the editor's settings (Node-RED keeps it in localStorage)
  await page.addInitScript(() => localStorage.setItem("editor-language", "de"));
  await page.goto(red.url);
  await page.waitForSelector('#red-ui-workspace-chart g.red-ui-flow-node-group[id="to1"]', { timeout: 30000 });
  await page.click('#red-ui-workspace-chart g.red-ui-flow-node-group[id="to1"] rect.red-ui-flow-node');
  await page.evaluate(() => (window as unknown as Win).RED.sidebar.show("help"));
  // the info tab is built of the same classes: the help tab's own panel is the visible one
  const panel = page.locator(".red-ui-sidebar-info .red-ui-help:visible").first();
  await panel.locator("h3").first().waitFor({ state: "visible", timeout: 15000 });
  const help = await panel.textContent() ?? "";
  should(help).containEql("Sendet Zeitreihenwerte eines Geräts");
  should(help).not.containEql("Sends time-series values");
  const headings = (await panel.locator("h3").allTextContents()).map((h) => h.trim());
  should(headings).eql(["Eingangsdaten", "Details", "Referenzen"]);
}

async function errorsAsText(page: Page, red: NodeRed): Promise<void> {
  await page.evaluate(() => (window as unknown as Win).RED.sidebar.show("debug"));
  should((await fetch(`${red.url}inject/inj`, { method: "POST" })).status).equal(200);
  await page.waitForFunction(() => document.querySelectorAll(".red-ui-debug-msg").length >= 2, undefined, { timeout: 15000 });
  for (const [node, sentence] of Object.entries(SENTENCES)) {
    const entry = page.locator(`.red-ui-debug-msg.red-ui-debug-msg-node-${node}`).first();
    // a string, not an object with name, message and stack
    should(await entry.locator(".red-ui-debug-msg-topic").textContent()).match(/^msg : string/);
    // a string over 80 characters is shown folded: opened, it is the whole sentence
    if (await entry.locator(".red-ui-debug-msg-object-handle").count()) await entry.locator(".red-ui-debug-msg-object-handle").first().click();
    await page.waitForFunction(({ id, text }) => (document.querySelector(`.red-ui-debug-msg-node-${id} .red-ui-debug-msg-payload`)?.textContent ?? "").includes(text), { id: node, text: sentence }, { timeout: 5000 });
  }
}

const ALL_TYPES = Object.keys((JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } })["node-red"].nodes);

/** Selects that show other fields for each of their options (a platform's, an auth mode's, a transport's). */
const SWITCHES = ["platform", "auth", "transport"];

/**
 * The dialog's field labels of Node-RED's standard width (100 px) that wrap onto a second line,
 * on every tab, and again for each option of the selects that show other fields.
 */
async function wrappedLabels(page: Page, spec: DialogSpec): Promise<string[]> {
  const prefix = `#node-${spec.config ? "config-" : ""}input-`;
  if (spec.config) await page.evaluate(({ type, id }) => (window as unknown as { RED: { editor: { editConfig(n: string, t: string, i: string): void } } }).RED.editor.editConfig("", type, id), { type: spec.type, id: spec.id });
  else await openNodeDialog(page, spec.id);
  const ok = spec.config ? "#node-config-dialog-ok" : "#node-dialog-ok";
  await page.waitForSelector(ok, { state: "visible" });
  await page.waitForSelector(`${prefix}${spec.changes[spec.changes.length - 1].field}`, { state: "attached" });
  const tabs = spec.tabs?.length ? spec.tabs : [undefined];
  const show = async (tab: string | undefined): Promise<void> => {
    if (!tab || await page.isVisible(`#${tab}`)) return;
    // Node-RED's tabs take two clicks within 400 ms as a double-click
    await page.waitForTimeout(450);
    await page.click(`#${spec.tabSet} li a.red-ui-tab-label[href="#${tab}"]`);
    await page.waitForSelector(`#${tab}`, { state: "visible" });
  };
  const wrapped = new Set<string>();
  const collect = async (): Promise<void> => {
    for (const tab of tabs) {
      await show(tab);
      for (const l of await page.evaluate(() => Array.from(document.querySelectorAll(".red-ui-tray .form-row > label")).filter((l) => {
        const el = l as HTMLElement;
        if (!el.offsetParent || getComputedStyle(el).width !== "100px") return false;
        return el.getBoundingClientRect().height > 1.5 * (parseFloat(getComputedStyle(el).lineHeight) || 20);
      }).map((l) => (l.textContent ?? "").trim()))) wrapped.add(l);
    }
  };
  await collect();
  for (const name of SWITCHES) {
    const select = `${prefix}${name}`;
    if (!(await page.locator(select).count())) continue;
    const tab = spec.changes.find((c) => c.field === name)?.tab;
    for (const value of await page.$$eval(`${select} option`, (os) => os.map((o) => (o as HTMLOptionElement).value))) {
      await show(tab);
      if (!(await page.isVisible(select))) break;
      await page.selectOption(select, value);
      await collect();
    }
  }
  await closeDialog(page, spec.config ? "#node-config-dialog-cancel" : "#node-dialog-cancel", ok, `the ${spec.type} dialog`);
  return [...wrapped];
}

// Every language on the package's own Node-RED (the first runtime); on the other versions the
// German catalogue alone, whose words are the longest (11 of the 19 labels this test first found
// wrapping were German): the 100 px label column is the same on 3.1 to 5.0, and the whole walk
// takes a minute per language and version of the CI run's twenty.
const FIRST = runtimes()[0];
for (const runtime of runtimes()) {
  const langs = runtime.redJs === FIRST.redJs ? ["en-US", "de", "zh-CN"] : ["de"];
  describe(`dialog labels fit in every language, Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(240000);
    const rig = editorRig();

    it(`no field label of a dialog wraps, on any tab, for any platform, auth mode or transport, in ${langs.join(", ")}`, async () => {
      const { red, browser } = await rig.start(DIALOG_FLOW, ALL_TYPES, { runtime, credentials: { gw1: { token: "T" } } });
      const wrapped: Record<string, string[]> = {};
      for (const lang of langs) {
        const page = await browser.context.newPage();
        await page.addInitScript((l) => localStorage.setItem("editor-language", l), lang);
        await page.goto(red.url);
        await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });
        for (const spec of DIALOGS) {
          const labels = await wrappedLabels(page, spec);
          if (labels.length) wrapped[`${lang} ${spec.type}`] = labels;
        }
        await page.close();
      }
      should(wrapped).eql({});
    });
  });


  describe(`the editor in German, Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(120000);
    const rig = editorRig();

    it("shows a node's help from its de page in the help sidebar, and errors in the debug sidebar as a whole sentence", async () => {
      const { red, browser } = await rig.start(FLOW, TYPES, { runtime, credentials: { gw1: { token: "T" } } });
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(`${e.message}\n${e.stack ?? ""}`));
      const failed = `/tmp/iotgw-i18n-${runtime.label}-failed.png`;
      try {
        await germanHelp(page, red);
        await errorsAsText(page, red);
      } catch (e) {
        await page.screenshot({ path: failed }).catch(() => undefined);
        throw new Error(`${(e as Error).message}\n(screenshot: ${failed})\n${red.log}`);
      }
      should(pageErrors).eql([]);
    });
  });
}
