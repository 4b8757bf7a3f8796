// The README's pictures: the "IoT gateway" sidebar with a live gateway (on the embedded
// ThingsBoard emulator) and each node's edit dialog, saved as PNGs of at most 800 px width to
// docs/images/. Not a test: run `npm run build && node dist/test/editor/sidebar-screenshots.js`.
import * as fs from "fs";
import * as path from "path";
import type { Page } from "playwright-core";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { DIALOGS, FLOW } from "./dialog-fields";
import { closeDialog, NodeRed, openNodeDialog, startBrowser } from "./node-red";
import { flow, SIDEBAR_TYPES } from "./sidebar-flow";

const OUT = path.resolve(__dirname, "../../../docs/images");
const WIDTH = 800;

function press(red: NodeRed, id: string): Promise<number> {
  return fetch(`${red.url}inject/${id}`, { method: "POST" }).then((r) => r.status);
}

async function editor(page: Page, red: NodeRed): Promise<void> {
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(red.url);
  await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });
}

async function sidebar(page: Page): Promise<void> {
  const emu = await ThingsBoardEmulator.start();
  const red = await NodeRed.start(flow(emu.url), SIDEBAR_TYPES, { credentials: { gwA: { token: "GATEWAY_TOKEN" }, gwB: { token: "NONE" } } });
  try {
    await editor(page, red);
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show("iot-gateway"));
    await page.waitForFunction(() => /^connected$/.test(document.querySelector('.iotgw-gateway[data-gateway="gwA"] .iotgw-state')?.textContent ?? ""), undefined, { timeout: 15000 });
    for (let i = 0; i < 3; i++) await press(red, "injA");
    await press(red, "injA2");
    await press(red, "injBad");
    for (let i = 0; i < 5; i++) await press(red, "injB");
    void emu.callRpc("Meter 1", "setValve", { open: true }, 60000).catch(() => undefined);
    await page.waitForFunction(() => /oldest "setValve"/.test(document.querySelector('.iotgw-gateway[data-gateway="gwA"] .iotgw-rpcs')?.textContent ?? ""), undefined, { timeout: 15000 });
    await page.waitForFunction(() => /^5 waiting/.test(document.querySelector('.iotgw-gateway[data-gateway="gwB"] .iotgw-waiting')?.textContent ?? ""), undefined, { timeout: 15000 });
    // a wider tab (dragged as a user would), and the canvas's right part beside it
    const sep = await page.locator("#red-ui-sidebar-separator").boundingBox();
    if (sep) {
      await page.mouse.move(sep.x + sep.width / 2, sep.y + sep.height / 2);
      await page.mouse.down();
      await page.mouse.move(sep.x - 140, sep.y + sep.height / 2, { steps: 5 });
      await page.mouse.up();
    }
    await page.waitForTimeout(500);
    const sidebarBox = await page.locator("#red-ui-sidebar").boundingBox();
    const vp = page.viewportSize() ?? { width: 1200, height: 900 };
    if (!sidebarBox) throw new Error("no sidebar");
    const right = sidebarBox.x + sidebarBox.width;
    await page.screenshot({ path: path.join(OUT, "sidebar.png"), clip: { x: Math.max(0, right - WIDTH), y: 0, width: Math.min(WIDTH, right), height: vp.height } });
  } finally {
    await red.stop();
    await emu.stop();
  }
}

async function dialogs(page: Page): Promise<void> {
  const types = [...new Set(FLOW.map((n) => String(n.type)).filter((t) => t !== "tab" && t !== "tls-config"))];
  const red = await NodeRed.start(FLOW, types, { credentials: { gw1: { token: "TOKEN" } } });
  try {
    await editor(page, red);
    for (const spec of DIALOGS) {
      if (spec.config) {
        await page.evaluate(({ type, id }) => (window as unknown as { RED: { editor: { editConfig(n: string, t: string, i: string): void } } }).RED.editor.editConfig("", type, id), { type: spec.type, id: spec.id });
      } else {
        await openNodeDialog(page, spec.id);
      }
      const ok = spec.config ? "#node-config-dialog-ok" : "#node-dialog-ok";
      await page.waitForSelector(ok, { state: "visible" });
      await page.waitForTimeout(600); // the tray's slide-in
      const tray = page.locator(".red-ui-tray").last();
      const box = await tray.boundingBox();
      if (!box) throw new Error(`no tray for ${spec.type}`);
      await page.screenshot({ path: path.join(OUT, `dialog-${spec.type}.png`), clip: { x: box.x, y: box.y, width: Math.min(WIDTH, box.width), height: box.height } });
      await closeDialog(page, spec.config ? "#node-config-dialog-cancel" : "#node-dialog-cancel", ok, `the ${spec.type} dialog`);
    }
  } finally {
    await red.stop();
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await startBrowser();
  try {
    const page = await browser.context.newPage();
    await sidebar(page);
    await dialogs(page);
  } finally {
    await browser.stop();
  }
  for (const f of fs.readdirSync(OUT).sort()) console.log(`${f}\t${fs.statSync(path.join(OUT, f)).size} bytes`);
}

main().catch((err: Error) => {
  console.error(err);
  process.exitCode = 1;
});
