// A real Node-RED (node-red/red.js in a child process) with this package installed in a temp
// user directory, and a real Chromium driving its editor through playwright-core.
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import type { BrowserContext, Page } from "playwright-core";
import { freePort } from "../modbus/servers";
import { hasFile, requirePeer } from "../support/peers";

export const CHROMIUM = "/usr/bin/chromium";

/** The package root when this file runs from <root>/dist/test/editor, else undefined. */
function packageRoot(): string | undefined {
  const root = path.resolve(__dirname, "../../..");
  return fs.existsSync(path.join(root, "package.json")) && fs.existsSync(path.join(root, "dist", "nodes")) ? root : undefined;
}

/**
 * Installs the package into `userDir`: a symlink to the package itself (as a user's npm install
 * would place it), or, when the tests were compiled elsewhere, a package.json naming the
 * compiled node files.
 */
function installPackage(userDir: string, types: string[]): void {
  const target = path.join(userDir, "node_modules", "node-red-contrib-iot-gateway");
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const root = packageRoot();
  if (root) {
    fs.symlinkSync(root, target, "dir");
    return;
  }
  const nodesDir = path.resolve(__dirname, "../../nodes");
  fs.mkdirSync(target);
  const nodes: Record<string, string> = {};
  for (const t of types) nodes[t] = path.relative(target, path.join(nodesDir, `${t}.js`));
  fs.writeFileSync(path.join(target, "package.json"), JSON.stringify({ name: "node-red-contrib-iot-gateway", version: "0.0.0", "node-red": { nodes } }));
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on("error", () => resolve(0));
  });
}

/** A Node-RED to run the editor tests on: its red.js and the node binary that runs it. */
export interface Runtime {
  label: string;
  redJs: string;
  node: string;
}

function versionOf(redJs: string): string {
  return (JSON.parse(fs.readFileSync(path.join(path.dirname(redJs), "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The package's own Node-RED (devDependency), then every other one installed under the folder
 * named by IOTGW_NODE_RED_RUNTIMES: <folder>/<any>/node_modules/node-red/red.js, run by
 * <folder>/<any>/node_modules/node/bin/node when that exists (npm package "node@22"), else by
 * this process's node. scripts/editor-runtimes.sh installs them.
 */
let warned = false;

export function runtimes(): Runtime[] {
  const own = require.resolve("node-red/red.js");
  const list: Runtime[] = [{ label: versionOf(own), redJs: own, node: process.execPath }];
  const dir = process.env.IOTGW_NODE_RED_RUNTIMES;
  if (!dir) {
    if (process.env.CI === "true") throw new Error("IOTGW_NODE_RED_RUNTIMES is not set: under CI the editor tests must run on Node-RED 3.1 and 5.0 too (.ci/run sets it)");
    if (!warned) console.log(`\n  !!! IOTGW_NODE_RED_RUNTIMES is not set: the editor tests run on Node-RED ${list[0].label} only (scripts/editor-runtimes.sh installs 3.1 and 5.0) !!!\n`);
    warned = true;
    return list;
  }
  if (!fs.existsSync(dir)) throw new Error(`IOTGW_NODE_RED_RUNTIMES names ${dir}, which does not exist`);
  for (const sub of fs.readdirSync(dir).sort()) {
    const redJs = path.join(dir, sub, "node_modules", "node-red", "red.js");
    if (!fs.existsSync(redJs)) continue;
    const node = path.join(dir, sub, "node_modules", "node", "bin", "node");
    list.push({ label: versionOf(redJs), redJs, node: fs.existsSync(node) ? node : process.execPath });
  }
  return list;
}

export interface StartOptions {
  runtime?: Runtime;
  /** credentials by node id, written to flows_cred.json unencrypted */
  credentials?: Record<string, Record<string, string>>;
}

export class NodeRed {
  private constructor(private readonly child: ChildProcess, readonly url: string, readonly userDir: string, private readonly output: () => string) {}

  static async start(flows: object[], types: string[], opts: StartOptions = {}): Promise<NodeRed> {
    const runtime = opts.runtime ?? runtimes()[0];
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "iotgw-editor-"));
    installPackage(userDir, types);
    const port = await freePort();
    fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows, null, 2));
    if (opts.credentials) fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(opts.credentials));
    fs.writeFileSync(path.join(userDir, "settings.js"), `module.exports = ${JSON.stringify({
      uiHost: "127.0.0.1", uiPort: port, flowFile: "flows.json", credentialSecret: false,
      editorTheme: { tours: false }, telemetry: { enabled: false }, logging: { console: { level: "warn" } },
    })};\n`);
    const child = spawn(runtime.node, [runtime.redJs, "-u", userDir, "-s", path.join(userDir, "settings.js")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr?.on("data", (d: Buffer) => { out += d.toString(); });
    const red = new NodeRed(child, `http://127.0.0.1:${port}/`, userDir, () => out);
    const end = Date.now() + 30000;
    while ((await get(red.url + "flows")) !== 200) {
      if (child.exitCode !== null || Date.now() > end) {
        await red.stop();
        throw new Error(`Node-RED did not start:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return red;
  }

  get log(): string {
    return this.output();
  }

  savedFlows(): Array<Record<string, unknown>> {
    return JSON.parse(fs.readFileSync(path.join(this.userDir, "flows.json"), "utf8")) as Array<Record<string, unknown>>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGINT");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

export interface Browser {
  context: BrowserContext;
  stop(): Promise<void>;
}

export async function startBrowser(): Promise<Browser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "iotgw-chromium-"));
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    stop: async () => {
      await context.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The Node-RED runtime and the Chromium of one describe block. `editorRig()` registers the
 * block's hooks: it needs Chromium (skipped, loudly, without it; failed under CI), and whatever
 * its tests started is stopped after them. A test starts both with `start`; a later test of the
 * block reads them from `red` and `browser`.
 */
export class EditorRig {
  red: NodeRed | undefined = undefined;
  browser: Browser | undefined = undefined;

  async start(flows: object[], types: string[], opts: StartOptions = {}): Promise<{ red: NodeRed; browser: Browser }> {
    const red = (this.red = await NodeRed.start(flows, types, opts));
    const browser = (this.browser = await startBrowser());
    return { red, browser };
  }

  async stop(): Promise<void> {
    await this.browser?.stop();
    await this.red?.stop();
  }
}

export function editorRig(): EditorRig {
  const rig = new EditorRig();
  before(function () {
    requirePeer("chromium", hasFile(CHROMIUM), this);
  });
  after(() => rig.stop());
  return rig;
}

/**
 * Clicks until `selector` reaches `state` (a dialog opened or closed), up to three times: on a
 * busy machine a click that lands while the tray still moves can be lost, and the second click
 * of a double-click can come too late and only select the node (both seen on CI). Three lost
 * clicks fail, saying what did not happen.
 */
async function clickUntil(page: Page, click: () => Promise<void>, selector: string, state: "visible" | "hidden", failure: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await click();
    try {
      await page.waitForSelector(selector, { state, timeout: 10000 });
      return;
    } catch (err) {
      if ((await page.isVisible(selector)) === (state === "visible")) return; // it happened just after the wait
      if (attempt === 3) throw new Error(`${failure} after ${attempt} clicks: ${(err as Error).message}`);
    }
  }
}

/** Double-clicks a node on the workspace until its edit dialog is open (its Done button visible), as a user opens it. */
export function openNodeDialog(page: Page, nodeId: string): Promise<void> {
  const node = `#red-ui-workspace-chart g.red-ui-flow-node-group[id="${nodeId}"] rect.red-ui-flow-node`;
  return clickUntil(page, () => page.dblclick(node), "#node-dialog-ok", "visible", `the dialog of node ${nodeId} did not open`);
}

/** Clicks a dialog's button (Done, Cancel) until the dialog is gone (`ok`, its Done button, hidden). */
export function closeDialog(page: Page, button: string, ok: string, what: string): Promise<void> {
  return clickUntil(page, () => page.click(button), ok, "hidden", `${what} did not close on ${button}`);
}
