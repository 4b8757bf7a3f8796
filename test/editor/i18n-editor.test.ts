// The editor in German, in a real Chromium against a real Node-RED: a node's help in the help
// sidebar is the de page (Node-RED picks it by the editor's language), and a node's palette
// label and dialog come from the de catalogue.
import should from "should";
import type { Page } from "playwright-core";
import { hasFile, requirePeer } from "../support/peers";
import { CHROMIUM, NodeRed, runtimes, startBrowser, type Browser } from "./node-red";

const TYPES = ["gateway-config", "telemetry-out"];

const FLOW = [
  { id: "t1", type: "tab", label: "i18n" },
  { id: "gw1", type: "gateway-config", name: "plant", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1" },
  { id: "to1", type: "telemetry-out", z: "t1", x: 200, y: 80, name: "", gateway: "gw1", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
];

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

for (const runtime of runtimes()) {
  describe(`the editor in German, Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(120000);
    let red: NodeRed | undefined;
    let browser: Browser | undefined;

    before(function () {
      requirePeer("chromium", hasFile(CHROMIUM), this);
    });

    after(async () => {
      await browser?.stop();
      await red?.stop();
    });

    it("shows a node's help from its de page in the help sidebar", async () => {
      red = await NodeRed.start(FLOW, TYPES, { runtime, credentials: { gw1: { token: "T" } } });
      browser = await startBrowser();
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      const failed = `/tmp/iotgw-i18n-${runtime.label}-failed.png`;
      try {
        await germanHelp(page, red);
      } catch (e) {
        await page.screenshot({ path: failed }).catch(() => undefined);
        throw new Error(`${(e as Error).message}\n(screenshot: ${failed})\n${red.log}`);
      }
      should(pageErrors).eql([]);
    });
  });
}
