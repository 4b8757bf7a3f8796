// The "IoT gateway" sidebar tab in Chromium against a real Node-RED and the embedded ThingsBoard
// emulator, live over Node-RED's comms while the tab is open: each gateway-config with its
// server and state, the device that sent data, an error a node had (a click reveals the node), an
// open RPC, the rate budget the server's limits give, and what waits during an outage and its
// drain when the server is back; the status of every node using it. No console errors.
import should from "should";
import type { Page } from "playwright-core";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { editorRig, NodeRed, runtimes } from "./node-red";
import { flow, SIDEBAR_TYPES as TYPES } from "./sidebar-flow";

function press(red: NodeRed, id: string): Promise<number> {
  return fetch(`${red.url}inject/${id}`, { method: "POST" }).then((r) => r.status);
}

const GW = (id: string, sel: string): string => `.iotgw-gateway[data-gateway="${id}"] ${sel}`;

async function text(page: Page, selector: string): Promise<string> {
  return (await page.textContent(selector)) ?? "";
}

/** Waits until the element's text matches (the sidebar redraws from the live feed). */
async function until(page: Page, selector: string, re: RegExp, timeout = 15000): Promise<string> {
  try {
    await page.waitForFunction(([s, src, flags]) => new RegExp(src, flags).test(document.querySelector(s)?.textContent ?? ""), [selector, re.source, re.flags] as const, { timeout });
  } catch (err) {
    throw new Error(`${selector} never matched ${re}: it reads "${await page.textContent(selector).catch(() => null)}"`);
  }
  return text(page, selector);
}

async function openTab(page: Page, red: NodeRed): Promise<void> {
  await page.goto(red.url);
  await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });
  await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show("iot-gateway"));
  await page.waitForSelector(GW("gwA", ".iotgw-state"), { state: "visible" });
}

async function check(page: Page, red: NodeRed, emu: ThingsBoardEmulator): Promise<ThingsBoardEmulator> {
  // the first paint (and a resync every 20 s) asks over HTTP; everything else comes over comms
  let gets = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/gateway-config/sidebar")) gets++;
  });
  await openTab(page, red);
  await until(page, GW("gwA", ".iotgw-state"), /^connected$/);
  await until(page, GW("gwB", ".iotgw-state"), /disconnected|connecting/);
  should(await text(page, GW("gwA", ".iotgw-server"))).equal(`thingsboard · ${emu.url}`);
  await until(page, GW("gwA", ".iotgw-since"), /^connected since .+ · reconnects: 0$/);
  should(await text(page, GW("gwA", '.iotgw-user[data-node="toA"] .iotgw-user-label'))).equal("meter A");
  should(await page.$$eval(GW("gwB", ".iotgw-user"), (lis) => lis.map((li) => li.getAttribute("data-node")).sort())).eql(["dcB", "toB"]);

  // another script's section below the gateways (the test platform's), by either hook
  await page.evaluate(() => {
    const w = window as unknown as { IotGatewaySidebar: { addSection(o: object): unknown }; IotGatewaySidebarQueue: { push(fn: (s: { addSection(o: object): unknown }) => void): void } };
    w.IotGatewaySidebar.addSection({ id: "iotgw-test-section", title: "Test platform", content: "<p class='hello'>hello</p>" });
    w.IotGatewaySidebarQueue.push((s) => s.addSection({ id: "iotgw-test-queued", title: "Queued" }));
  });
  should(await text(page, "#iotgw-sidebar-sections #iotgw-test-section .iotgw-section-title")).equal("Test platform");
  should(await text(page, "#iotgw-sidebar-sections #iotgw-test-section .hello")).equal("hello");
  should(await page.isVisible("#iotgw-sidebar-sections #iotgw-test-queued")).be.true();

  // the device that sent data, with its profile, announced, and when: over comms, not a GET
  const before = gets;
  should(before).be.above(0);
  should(await press(red, "injA")).equal(200);
  await emu.waitFor(() => emu.telemetry("Meter 1").length === 1, 10000);
  await until(page, GW("gwA", '.iotgw-device[data-device="Meter 1"] .iotgw-device-facts'), /^profile meter · announced · last uplink \d+ s ago$/);
  should(await text(page, GW("gwA", ".iotgw-devices .iotgw-part-title"))).equal("Devices (1)");
  should(gets).equal(before);
  await until(page, GW("gwA", ".iotgw-rates"), /^in [\d.]+ msg\/s, [\d.]+ points\/s · out [\d.]+ msg\/s in [\d.]+ publishes\/s, [\d.]+ (B|KiB)\/s$/);
  // the server's limits give the rate budget (ThingsBoard's defaults in the emulator)
  await until(page, GW("gwA", ".iotgw-budget .iotgw-part-title"), /^Rate budget: \d+ % in use \(\d+ limits\)$/);

  // many devices: the ten most recent, a count of the others, and a click lists them all
  should(await press(red, "injMany")).equal(200);
  await until(page, GW("gwA", ".iotgw-devices .iotgw-part-title"), /^Devices \(13\)$/);
  should(await page.$$eval(GW("gwA", ".iotgw-device"), (lis) => lis.length)).equal(10);
  should(await text(page, GW("gwA", ".iotgw-devices-more"))).equal("… and 3 more");
  await page.click(GW("gwA", ".iotgw-devices-more"));
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 13, GW("gwA", ".iotgw-device"), { timeout: 5000 });
  should(await page.isVisible(GW("gwA", ".iotgw-devices-more"))).be.false();

  // an error a node had: its label and message; a click reveals the node
  should(await press(red, "injBad")).equal(200);
  const err = GW("gwA", '.iotgw-error[data-node="toA"]');
  await until(page, err, /^\d+ s meter A: telemetry-out: .*empty key/);
  await until(page, GW("gwA", '.iotgw-device[data-device="Meter 1"] .iotgw-device-error'), /^last error \d+ s ago: .*empty key/);
  await page.click(GW("gwA", ".iotgw-errors .iotgw-part-head")); // collapse
  should(await page.isVisible(err)).be.false();
  await page.click(GW("gwA", ".iotgw-errors .iotgw-part-head")); // and open again
  await page.click(err);
  await page.waitForFunction(() => (window as unknown as { RED: { nodes: { node(id: string): { highlighted?: boolean } } } }).RED.nodes.node("toA").highlighted === true, undefined, { timeout: 5000 });

  // an RPC the flow has not answered (rpc-in without rpc-response)
  const rpc = emu.callRpc("Meter 1", "setValve", { open: true }, 60000).catch(() => undefined);
  await until(page, GW("gwA", ".iotgw-rpcs"), /^open RPCs: 1 · oldest "setValve" of Meter 1, \d+ s$/);

  // what waits for a server it cannot reach (plant B), counted while the tab is open
  for (let i = 0; i < 3; i++) should(await press(red, "injB")).equal(200);
  await until(page, GW("gwB", ".iotgw-waiting"), /^3 waiting · oldest \d+ s( · cap in [^(]+)? \(in memory\)$/);

  // an outage of plant A's server: what the flow sends meanwhile waits, and drains when it is back
  const port = Number(new URL(emu.url).port);
  await emu.stop();
  await rpc;
  await until(page, GW("gwA", ".iotgw-state"), /disconnected|connecting/);
  for (let i = 0; i < 4; i++) should(await press(red, "injA")).equal(200);
  await until(page, GW("gwA", ".iotgw-waiting"), /^4 waiting · oldest \d+ s/);
  const back = await ThingsBoardEmulator.start({ port });
  await until(page, GW("gwA", ".iotgw-state"), /^connected$/, 20000);
  await until(page, GW("gwA", ".iotgw-waiting"), /^0 waiting \(in memory\)$/);
  await back.waitFor(() => back.telemetry("Meter 1").length === 4, 10000);
  await until(page, GW("gwA", ".iotgw-since"), /^connected since .+ · reconnects: 1$/);
  return back;
}

for (const runtime of runtimes()) {
  describe(`the IoT gateway sidebar in Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(180000);
    const rig = editorRig();
    let emu: ThingsBoardEmulator | undefined;

    after(async () => {
      await emu?.stop().catch(() => undefined);
    });

    it("shows each gateway live: devices, errors with their node, open RPCs, budget, what waits and its drain", async () => {
      emu = await ThingsBoardEmulator.start();
      const { red, browser } = await rig.start(flow(emu.url), TYPES, { runtime, credentials: { gwA: { token: "GATEWAY_TOKEN" }, gwB: { token: "NONE" } } });
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error" && !/ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
      });
      const failed = `/tmp/iotgw-sidebar-${runtime.label}-failed.png`;
      try {
        emu = await check(page, red, emu);
      } catch (err) {
        await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${failed}; page errors: ${pageErrors.join(" | ")})`);
      }
      should(pageErrors).eql([]);
    });
  });
}
