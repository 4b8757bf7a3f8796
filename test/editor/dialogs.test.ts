// Every node's edit dialog in a real Chromium against a real Node-RED: it opens with no error on
// the page, every tab is reachable, every field a user sets is kept on Done, shown again when the
// dialog is reopened, and written to the flow file (credentials to the credentials file) on Deploy.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import type { Page } from "playwright-core";
import { closeDialog, editorRig, NodeRed, openNodeDialog, runtimes } from "./node-red";
import { DIALOGS, FLOW, type DialogSpec, type FieldChange } from "./dialog-fields";

// every node type the package registers
const TYPES = Object.keys((JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } })["node-red"].nodes);
const CREDENTIALS = { gw1: { token: "OLD" } };

function inputId(spec: DialogSpec, field: string): string {
  return `#node-${spec.config ? "config-" : ""}input-${field}`;
}

async function open(page: Page, spec: DialogSpec): Promise<void> {
  if (spec.config) {
    await page.evaluate(({ type, id }) => (window as unknown as { RED: { editor: { editConfig(n: string, t: string, i: string): void } } }).RED.editor.editConfig("", type, id), { type: spec.type, id: spec.id });
  } else {
    await openNodeDialog(page, spec.id);
  }
  await page.waitForSelector(`${spec.config ? "#node-config-dialog-ok" : "#node-dialog-ok"}`, { state: "visible" });
  await page.waitForSelector(inputId(spec, spec.changes[spec.changes.length - 1].field), { state: "attached" });
}

async function showTab(page: Page, spec: DialogSpec, tab: string | undefined): Promise<void> {
  if (!tab || await page.isVisible(`#${tab}`)) return;
  // Node-RED's tabs take two clicks within 400 ms, even on two tabs, as a double-click
  await page.waitForTimeout(450);
  await page.click(`#${spec.tabSet} li a.red-ui-tab-label[href="#${tab}"]`);
  await page.waitForSelector(`#${tab}`, { state: "visible" });
  for (const other of spec.tabs ?? []) if (other !== tab) should(await page.isVisible(`#${other}`)).be.false(`${other} hidden while ${tab} shows`);
}

async function enter(page: Page, spec: DialogSpec, c: FieldChange): Promise<void> {
  await showTab(page, spec, c.tab);
  const sel = inputId(spec, c.field);
  if (c.before !== undefined) should((await shown(page, spec, c)).value).eql(c.before, `${spec.type}.${c.field} shown before the change`);
  if (c.kind === "text") await page.fill(sel, String(c.value));
  else if (c.kind === "select") await page.selectOption(sel, String(c.value));
  else if (c.kind === "check") await page.setChecked(sel, c.value === true);
  else {
    // the typed input's own widget, as the user sees it, must be there
    await page.waitForSelector(`${sel} + .red-ui-typedInput-container, .red-ui-typedInput-container:has(${sel})`, { state: "visible" });
    await page.evaluate(({ s, t, v }) => { const el = (window as unknown as { $: (s: string) => { typedInput(a: string, b?: string): unknown } }).$(s); el.typedInput("type", t); el.typedInput("value", v); }, { s: sel, t: c.type as string, v: String(c.value) });
  }
}

/** The last value each field was given (a field set twice keeps the second). */
function finalValues(spec: DialogSpec): Map<string, FieldChange> {
  const m = new Map<string, FieldChange>();
  for (const c of spec.changes) m.set(c.field, c);
  return m;
}

async function shown(page: Page, spec: DialogSpec, c: FieldChange): Promise<{ value: unknown; type?: unknown }> {
  const sel = inputId(spec, c.field);
  return page.evaluate(({ s, kind }) => {
    const $ = (window as unknown as { $: (s: string) => { val(): unknown; prop(p: string): unknown; typedInput(a: string): unknown } }).$;
    if (kind === "check") return { value: $(s).prop("checked") };
    if (kind === "typed") return { value: $(s).typedInput("value"), type: $(s).typedInput("type") };
    return { value: $(s).val() };
  }, { s: sel, kind: c.kind });
}

/** With IOTGW_SCREENSHOTS=<dir>, each dialog as filled in, for the README. */
async function shoot(page: Page, name: string): Promise<void> {
  const dir = process.env.IOTGW_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.locator(".red-ui-tray").last().screenshot({ path: path.join(dir, `${name}.png`) });
}

async function editAll(page: Page, red: NodeRed, errors: string[]): Promise<void> {
  await page.goto(red.url);
  await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });
  // each node kind shows its own icon, found in the package's icons folder
  const icons = await page.$$eval("#red-ui-workspace-chart g.red-ui-flow-node-group", (gs) => gs.map((g) => [g.id, g.querySelector("image")?.getAttribute("xlink:href") ?? g.querySelector("image")?.getAttribute("href") ?? ""]));
  for (const spec of DIALOGS.filter((d) => !d.config)) {
    const icon = icons.find(([id]) => id === spec.id)?.[1] ?? "";
    should(icon).endWith(`node-red-contrib-iot-gateway/${spec.type}.svg`, `${spec.type}: its icon, not ${icon}`);
  }
  should(TYPES.filter((t) => !DIALOGS.some((d) => d.type === t))).eql([], "node types without a dialog in this test");
  for (const spec of DIALOGS) {
    // every property of the type is exercised here or named as tested elsewhere
    const props = await page.evaluate((type) => {
      const def = (window as unknown as { RED: { nodes: { getType(t: string): { defaults: object; credentials?: object } } } }).RED.nodes.getType(type);
      return [...Object.keys(def.defaults), ...Object.keys(def.credentials ?? {})];
    }, spec.type);
    const covered = new Set([...spec.changes.flatMap((c) => (c.kind === "typed" ? [c.field, `${c.field}Type`] : [c.field])), ...Object.keys(spec.elsewhere ?? {})]);
    const untested = props.filter((p) => !covered.has(p));
    should({ [spec.type]: untested }).eql({ [spec.type]: [] }, `properties no test sets: ${spec.type} ${untested.join(", ")}`);

    await open(page, spec);
    should(errors).eql([], `${spec.type}: errors on opening its dialog`);
    if (spec.tabs) {
      const labels = await page.$$eval(`#${spec.tabSet} li a.red-ui-tab-label`, (as) => as.map((a) => a.getAttribute("href")));
      should(labels).eql(spec.tabs.map((t) => `#${t}`), `${spec.type}: its tabs`);
      for (const t of spec.tabs) await showTab(page, spec, t);
    }
    for (const c of spec.changes) await enter(page, spec, c);
    await shoot(page, spec.type + (spec.tabs ? "-" + spec.tabs[spec.tabs.length - 1] : ""));
    if (spec.tabs) {
      await showTab(page, spec, spec.tabs[0]);
      await shoot(page, `${spec.type}-${spec.tabs[0]}`);
    }
    await closeDialog(page, spec.config ? "#node-config-dialog-ok" : "#node-dialog-ok", spec.config ? "#node-config-dialog-ok" : "#node-dialog-ok", `the ${spec.type} dialog`);

    // reopened, the dialog shows what was entered
    await open(page, spec);
    for (const c of finalValues(spec).values()) {
      if (c.credential && c.kind === "text" && /password|token|provisionKey|provisionSecret/.test(c.field)) continue; // shown as a placeholder, checked in the file
      await showTab(page, spec, c.tab);
      const s = await shown(page, spec, c);
      should(s.value).eql(c.kind === "check" ? c.value : String(c.value), `${spec.type}.${c.field} shown again`);
      if (c.kind === "typed") should(s.type).eql(c.type, `${spec.type}.${c.field} type shown again`);
    }
    await closeDialog(page, spec.config ? "#node-config-dialog-cancel" : "#node-dialog-cancel", spec.config ? "#node-config-dialog-ok" : "#node-dialog-ok", `the ${spec.type} dialog`);
  }

  await page.click("#red-ui-header-button-deploy");
  const saved = await waitFor(() => {
    const flows = red.savedFlows();
    return flows.find((n) => n.id === "rr")?.name === "answer" ? flows : undefined;
  });
  const creds = JSON.parse(fs.readFileSync(path.join(red.userDir, "flows_cred.json"), "utf8")) as Record<string, Record<string, string>>;
  for (const spec of DIALOGS) {
    const node = saved.find((n) => n.id === spec.id) as Record<string, unknown>;
    for (const c of finalValues(spec).values()) {
      const value = c.credential ? creds[spec.id]?.[c.field] : node[c.field];
      const expected = c.saved !== undefined ? c.saved : c.value;
      if (c.kind === "check") should(value).equal(expected, `${spec.type}.${c.field} saved`);
      else should(String(value)).equal(String(expected), `${spec.type}.${c.field} saved`);
      if (c.kind === "typed") should(node[`${c.field}Type`]).equal(c.type, `${spec.type}.${c.field}Type saved`);
    }
  }
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

/** A gateway-config a user adds now: the disk store with its defaults, QoS 1 the only choice. */
async function addGateway(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { RED: { editor: { editConfig(n: string, t: string, i: string): void } } }).RED.editor.editConfig("", "gateway-config", "_ADD_"));
  await page.waitForSelector("#node-config-dialog-ok", { state: "visible" });
  await page.waitForTimeout(450);
  await page.click(`#node-config-gw-tabs li a.red-ui-tab-label[href="#gw-tab-delivery"]`);
  await page.waitForSelector("#node-config-input-storePath", { state: "visible" });
  const shownValues = await page.evaluate(() => {
    const $ = (window as unknown as { $: (s: string) => { val(): unknown; is(s: string): boolean; find(s: string): { map(f: (i: number, e: HTMLOptionElement) => string): { get(): string[] } } } }).$;
    const v = (f: string) => $(`#node-config-input-${f}`).val();
    return {
      storeType: v("storeType"), storePath: v("storePath"), storeMaxMB: v("storeMaxMB"), storeMaxAgeH: v("storeMaxAgeH"), doneWhen: v("doneWhen"), overflow: v("overflow"),
      maxQueuedShown: $("#node-config-input-maxQueued").is(":visible"),
      qos: $("#node-config-input-qos").find("option").map((_i, o) => o.value).get(),
    };
  });
  should(shownValues).eql({ storeType: "disk", storePath: "", storeMaxMB: "512", storeMaxAgeH: "168", doneWhen: "stored", overflow: "reject", maxQueuedShown: false, qos: ["1"] });
  await page.selectOption("#node-config-input-storeType", "memory");
  should(await page.isVisible("#node-config-input-maxQueued")).be.true();
  should(await page.isVisible("#node-config-input-storeMaxMB")).be.false();
  await closeDialog(page, "#node-config-dialog-cancel", "#node-config-dialog-ok", "the new gateway-config dialog");
}

for (const runtime of runtimes()) {
  describe(`every dialog in Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(180000);
    const rig = editorRig();

    let page: Page;
    const pageErrors: string[] = [];

    async function step(name: string, run: () => Promise<void>): Promise<void> {
      const failed = `/tmp/iotgw-dialogs-${runtime.label}-${name}-failed.png`;
      try {
        await run();
      } catch (err) {
        await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${failed}; page errors: ${pageErrors.join(" | ")})`);
      }
      should(pageErrors).eql([]);
    }

    it("opens every dialog without an error, reaches every tab, and keeps every field through Done, reopen and Deploy", async () => {
      const { red, browser } = await rig.start(FLOW, TYPES, { runtime, credentials: CREDENTIALS });
      page = await browser.context.newPage();
      page.on("pageerror", (e) => pageErrors.push(e.message));
      // Node-RED catches a throwing oneditprepare or label function and only console.logs it
      page.on("console", (m) => {
        const caught = /^(oneditprepare|oneditsave|Definition error)/.test(m.text());
        if ((m.type() === "error" || caught) && !/ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
      });
      await step("edit", () => editAll(page, red, pageErrors));
    });

    it("offers a new gateway the disk store with its defaults, and QoS 1 only", async () => {
      should.exist(rig.red, "the first test started Node-RED");
      await step("add", () => addGateway(page));
    });
  });
}
