// The "IoT gateway" sidebar tab in Chromium against a real Node-RED and the embedded ThingsBoard
// emulator: each gateway-config with its server and the live status of the nodes using it, which
// changes while the tab is open when the server goes away, and what waits for a server it cannot reach.
import should from "should";
import type { Page } from "playwright-core";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { hasFile, requirePeer } from "../support/peers";
import { CHROMIUM, NodeRed, runtimes, startBrowser, type Browser } from "./node-red";

const TYPES = ["gateway-config", "telemetry-out", "device-connect"];

function press(red: NodeRed, id: string): Promise<number> {
  return fetch(`${red.url}inject/${id}`, { method: "POST" }).then((r) => r.status);
}

function flow(url: string): object[] {
  return [
    { id: "t1", type: "tab", label: "sidebar" },
    { id: "gwA", type: "gateway-config", name: "plant A", platform: "thingsboard", url, auth: "token", protocolVersion: "4", qos: "1", reconnectMin: 0.2, reconnectMax: 1 },
    { id: "gwB", type: "gateway-config", name: "plant B", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1", reconnectMin: 0.2, reconnectMax: 1 },
    { id: "toA", type: "telemetry-out", z: "t1", x: 200, y: 80, name: "meter A", gateway: "gwA", device: "", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    // telemetry for plant B, which cannot reach its server: it waits in the outbox
    { id: "injB", type: "inject", z: "t1", x: 200, y: 240, name: "reading", props: [{ p: "payload", v: '{"t": 1}', vt: "json" }, { p: "device", v: "Pump B", vt: "str" }], repeat: "", once: false, wires: [["toB"]] },
    { id: "toB", type: "telemetry-out", z: "t1", x: 440, y: 240, name: "pump B values", gateway: "gwB", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    { id: "dcB", type: "device-connect", z: "t1", x: 200, y: 160, name: "pump B", gateway: "gwB", device: "device", deviceType: "msg", profile: "", profileType: "str", action: "connect", wires: [[]] },
  ];
}

async function state(page: Page, gw: string): Promise<string> {
  return (await page.textContent(`.iotgw-gateway[data-gateway="${gw}"] .iotgw-state`)) ?? "";
}

async function check(page: Page, red: NodeRed, emu: ThingsBoardEmulator): Promise<void> {
  await page.goto(red.url);
  await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });
  // the tab is there, by its label, and opens
  await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show("iot-gateway"));
  await page.waitForSelector('.iotgw-gateway[data-gateway="gwA"]', { state: "visible" });
  await page.waitForFunction(() => /^connected/.test(document.querySelector('.iotgw-gateway[data-gateway="gwA"] .iotgw-state')?.textContent ?? ""), undefined, { timeout: 15000 });
  await page.waitForFunction(() => /disconnected|connecting/.test(document.querySelector('.iotgw-gateway[data-gateway="gwB"] .iotgw-state')?.textContent ?? ""), undefined, { timeout: 15000 });
  should(await page.textContent('.iotgw-gateway[data-gateway="gwA"] .iotgw-server')).equal(`thingsboard · ${emu.url}`);
  should(await page.textContent('.iotgw-gateway[data-gateway="gwA"] .iotgw-user[data-node="toA"] .iotgw-user-label')).equal("meter A");
  should(await page.$$eval('.iotgw-gateway[data-gateway="gwB"] .iotgw-user', (lis) => lis.map((li) => li.getAttribute("data-node")).sort())).eql(["dcB", "toB"]);
  // what waits, counted by the runtime, shown while the tab is open
  for (let i = 0; i < 3; i++) should(await press(red, "injB")).equal(200);
  await page.waitForFunction(() => /^3 waiting · oldest \d+ s( · cap in [^(]+)? \(in memory\)$/.test(document.querySelector('.iotgw-gateway[data-gateway="gwB"] .iotgw-waiting')?.textContent ?? ""), undefined, { timeout: 15000 });
  // live: the server goes away while the tab is open
  await emu.stop();
  await page.waitForFunction(() => /disconnected|connecting/.test(document.querySelector('.iotgw-gateway[data-gateway="gwA"] .iotgw-state')?.textContent ?? ""), undefined, { timeout: 15000 });
  should(await state(page, "gwA")).not.match(/^connected/);
}

for (const runtime of runtimes()) {
  describe(`the IoT gateway sidebar in Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(120000);
    let red: NodeRed | undefined;
    let browser: Browser | undefined;
    let emu: ThingsBoardEmulator | undefined;

    before(function () {
      requirePeer("chromium", hasFile(CHROMIUM), this);
    });

    after(async () => {
      await browser?.stop();
      await red?.stop();
      await emu?.stop().catch(() => undefined);
    });

    it("lists each gateway with its server and its nodes' live status", async () => {
      emu = await ThingsBoardEmulator.start();
      red = await NodeRed.start(flow(emu.url), TYPES, { runtime, credentials: { gwA: { token: "GATEWAY_TOKEN" }, gwB: { token: "NONE" } } });
      browser = await startBrowser();
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      const failed = `/tmp/iotgw-sidebar-${runtime.label}-failed.png`;
      try {
        await check(page, red, emu);
        if (process.env.IOTGW_SCREENSHOTS) await page.screenshot({ path: `${process.env.IOTGW_SCREENSHOTS}/sidebar.png` });
      } catch (err) {
        await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${failed}; page errors: ${pageErrors.join(" | ")})`);
      }
      should(pageErrors).eql([]);
    });
  });
}
