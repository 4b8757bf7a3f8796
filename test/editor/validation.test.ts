// What the editor flags before a deploy, in Chromium against a real Node-RED: a register map with
// bad rows or duplicate keys (by the runtime's own rules) and an empty map mark modbus-source
// invalid on load; a gateway without its access token, X.509 without a TLS config or a TLS URL,
// and a URL of another scheme mark gateway-config invalid, with the reason on the field.
import should from "should";
import type { Page } from "playwright-core";
import { closeDialog, editorRig, NodeRed, runtimes } from "./node-red";

const TYPES = ["gateway-config", "telemetry-out", "modbus-connection", "modbus-source"];
const source = (id: string, y: number, map: unknown[]) => ({
  id, type: "modbus-source", z: "t1", x: 200, y, name: id, connection: "mbc", device: `Boiler ${id}`, profile: "", unitId: 1, period: 5,
  reportMode: "every-poll", deadband: "", reportPeriod: "", maxGap: "", maxRegisters: "", disconnectAfter: 0, map, wires: [[], [], [], []],
});
const FLOW = [
  { id: "t1", type: "tab", label: "validation" },
  { id: "mbc", type: "modbus-connection", name: "line", transport: "tcp", host: "127.0.0.1", port: 1, timeout: 500, retries: 0 },
  { id: "gwok", type: "gateway-config", name: "ok", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1" },
  { id: "gwnotoken", type: "gateway-config", name: "no token", platform: "thingsboard", url: "mqtt://127.0.0.1:1", auth: "token", protocolVersion: "4", qos: "1" },
  { id: "to", type: "telemetry-out", z: "t1", x: 200, y: 400, name: "", gateway: "gwok", device: "", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
  source("good", 80, [{ key: "temperature", area: "holding", address: 0, type: "float32" }]),
  source("badrow", 160, [{ key: "temperature", area: "holding", address: 0, type: "float32" }, { key: "pump", area: "coil", address: 5, type: "int16" }]),
  source("dupkey", 240, [{ key: "t", area: "holding", address: 0, type: "uint16" }, { key: "t", area: "holding", address: 1, type: "uint16" }]),
  source("empty", 320, []),
];

type Win = { RED: { nodes: { node(id: string): { valid?: boolean; validationErrors?: string[] } | null }; editor: { editConfig(n: string, t: string, i: string): void } } };

async function validity(page: Page, id: string): Promise<{ valid: boolean; errors: string[] }> {
  return page.evaluate((nodeId) => {
    const n = (window as unknown as Win).RED.nodes.node(nodeId);
    return { valid: n?.valid !== false, errors: n?.validationErrors ?? [] };
  }, id);
}

async function waitInvalid(page: Page, id: string): Promise<string[]> {
  await page.waitForFunction((nodeId) => (window as unknown as Win).RED.nodes.node(nodeId)?.valid === false, id, { timeout: 10000 });
  return (await validity(page, id)).errors;
}

async function openGateway(page: Page, id: string): Promise<void> {
  await page.evaluate((gw) => (window as unknown as Win).RED.editor.editConfig("", "gateway-config", gw), id);
  await page.waitForSelector("#node-config-dialog-ok", { state: "visible" });
  // the tray's buttons show before the form inside it is built
  await page.waitForSelector("#node-config-input-url", { state: "visible" });
}

async function fieldInvalid(page: Page, field: string): Promise<boolean> {
  // a config-node select is wrapped; Node-RED marks the input (or select) itself
  return page.$eval(`#node-config-input-${field}`, (el) => el.classList.contains("input-error"));
}

async function check(page: Page, red: NodeRed): Promise<void> {
  await page.goto(red.url);
  await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group", { timeout: 30000 });

  // the register map, as the runtime judges it, on load
  const badRow = await waitInvalid(page, "badrow");
  should(badRow.join(" ")).match(/area coil holds bits/);
  const dup = await waitInvalid(page, "dupkey");
  should(dup.join(" ")).match(/already used/);
  should((await waitInvalid(page, "empty")).join(" ")).match(/empty/);
  should((await validity(page, "good")).valid).be.true();
  // and the user sees the red triangle on those nodes only
  const flagged = await page.$$eval("#red-ui-workspace-chart g.red-ui-flow-node-group", (gs) => gs
    .filter((g) => { const e = g.querySelector(".red-ui-flow-node-error"); return e !== null && !e.classList.contains("hide") && getComputedStyle(e).display !== "none"; })
    .map((g) => g.id).sort());
  should(flagged).eql(["badrow", "dupkey", "empty"]);

  // gateway-config: the access token is required for token auth
  await openGateway(page, "gwnotoken");
  await page.fill("#node-config-input-token", "");
  await page.dispatchEvent("#node-config-input-token", "change");
  await closeDialog(page, "#node-config-dialog-ok", "#node-config-dialog-ok", "the gateway-config dialog");
  should((await waitInvalid(page, "gwnotoken")).join(" ")).match(/access token is required/);

  // X.509 needs a TLS config and a TLS URL; the fields say so while the dialog is open
  await openGateway(page, "gwok");
  should(await fieldInvalid(page, "url")).be.false();
  await page.selectOption("#node-config-input-auth", "x509");
  await page.waitForFunction(() => document.querySelector("#node-config-input-url")?.classList.contains("input-error"));
  should(await fieldInvalid(page, "tls")).be.true();
  await page.fill("#node-config-input-url", "mqtts://127.0.0.1:8883");
  await page.dispatchEvent("#node-config-input-url", "change");
  should(await fieldInvalid(page, "url")).be.false();
  await closeDialog(page, "#node-config-dialog-ok", "#node-config-dialog-ok", "the gateway-config dialog");
  should((await waitInvalid(page, "gwok")).join(" ")).match(/TLS configuration/);

  // a URL of another scheme
  await openGateway(page, "gwok");
  await page.selectOption("#node-config-input-auth", "token");
  await page.fill("#node-config-input-url", "http://127.0.0.1:1883");
  await page.dispatchEvent("#node-config-input-url", "change");
  should(await fieldInvalid(page, "url")).be.true();
  await page.fill("#node-config-input-url", "mqtt://127.0.0.1:1883");
  await page.dispatchEvent("#node-config-input-url", "change");
  should(await fieldInvalid(page, "url")).be.false();
  await closeDialog(page, "#node-config-dialog-ok", "#node-config-dialog-ok", "the gateway-config dialog");
  await page.waitForFunction(() => (window as unknown as Win).RED.nodes.node("gwok")?.valid !== false);
}

for (const runtime of runtimes()) {
  describe(`editor validation in Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(120000);
    const rig = editorRig();

    it("flags bad map rows, duplicate keys, an empty map, a missing token, X.509 without TLS and a wrong URL scheme", async () => {
      const { red, browser } = await rig.start(FLOW, TYPES, { runtime, credentials: { gwok: { token: "T" } } });
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      const failed = `/tmp/iotgw-validation-${runtime.label}-failed.png`;
      try {
        await check(page, red);
      } catch (err) {
        await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${failed}; page errors: ${pageErrors.join(" | ")})`);
      }
      should(pageErrors).eql([]);
    });
  });
}
