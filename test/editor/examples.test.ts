// The shipped examples: per platform one gateway-config, the same node in every file, so that
// importing several examples in the editor leaves one gateway (one session, one dropdown entry);
// a comment node in each; rows and columns far enough apart that every status can be read.
import * as fs from "fs";
import * as path from "path";
import should from "should";
import type { Page } from "playwright-core";
import { editorRig, NodeRed, runtimes } from "./node-red";

type N = Record<string, unknown> & { id: string; type: string; x?: number; y?: number };
const DIR = path.resolve(__dirname, "../../../examples");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(DIR, f), "utf8")) as N[];
const OURS = Object.keys((JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } })["node-red"].nodes);

describe("examples", () => {
  it("share one gateway-config per platform, the same node in every file", () => {
    const byPlatform = new Map<string, string>();
    for (const f of files) {
      const gws = load(f).filter((n) => n.type === "gateway-config");
      should(gws.length).equal(1, `${f}: its gateway-configs`);
      const platform = String(gws[0].platform);
      const seen = byPlatform.get(platform);
      if (seen) should(JSON.stringify(gws[0])).equal(seen, `${f}: the ${platform} gateway differs from the other examples'`);
      else byPlatform.set(platform, JSON.stringify(gws[0]));
    }
  });

  it("each have a comment node saying what to set, and use only core nodes and this package's", () => {
    for (const f of files) {
      const flow = load(f);
      const comments = flow.filter((n) => n.type === "comment");
      should(comments.length).be.above(0, `${f}: a comment`);
      should(String(comments[0].info ?? "")).match(/gateway|URL|token/i);
      for (const n of flow) should(/^[a-z]+$|^(tls-config|link (in|out|call))$/.test(n.type) || OURS.includes(n.type)).be.true(`${f}: ${n.type}`);
    }
  });

  it("leave room for every status: rows 80 px apart, nodes in a row 240 px apart", () => {
    for (const f of files) {
      const placed = load(f).filter((n) => typeof n.x === "number" && typeof n.y === "number" && n.type !== "comment");
      for (const a of placed) {
        for (const b of placed) {
          if (a === b) continue;
          const dy = Math.abs((a.y as number) - (b.y as number));
          const dx = Math.abs((a.x as number) - (b.x as number));
          should(dy >= 80 || dx >= 240).be.true(`${f}: ${a.type} (${a.x},${a.y}) and ${b.type} (${b.x},${b.y}) overlap their statuses`);
        }
      }
    }
  });
});

type Win = { RED: { view: { importNodes(n: unknown[], o?: object): void }; nodes: { eachConfig(cb: (n: { type: string; id: string }) => void): void } } };

async function importAll(page: Page, red: NodeRed): Promise<void> {
  await page.goto(red.url);
  await page.waitForSelector("#red-ui-workspace", { timeout: 30000 });
  // the editor has loaded the flow and this package's node types
  await page.waitForSelector("#red-ui-workspace-chart .red-ui-flow-node-group, #red-ui-tab-t0", { timeout: 30000 });
  await page.waitForFunction(() => {
    const RED = (window as unknown as { RED?: { nodes?: { getType(t: string): unknown; workspace(id: string): unknown } } }).RED;
    return Boolean(RED?.nodes?.getType("gateway-config") && RED.nodes.getType("modbus-source") && RED.nodes.workspace("t0"));
  });
  for (const f of files) {
    const flow = load(f);
    // the editor's Import, one example after the other, each onto a tab of its own; Node-RED
    // lists the nodes that exist already, and the user unticks them (its "skip")
    const skipped = await page.evaluate((nodes) => {
      const RED = (window as unknown as Win).RED;
      try {
        RED.view.importNodes(nodes, { addFlow: true });
        return [];
      } catch (err) {
        const e = err as { code?: string; importConfig?: { conflicted: Record<string, unknown> } };
        if (e.code !== "import_conflict" || !e.importConfig) throw err;
        const existing = Object.keys(e.importConfig.conflicted);
        RED.view.importNodes((nodes as Array<{ id: string }>).filter((n) => !existing.includes(n.id)), { addFlow: true });
        return existing;
      }
    }, flow);
    // only the gateway exists already: no other node of one example clashes with another's
    should(skipped.every((id) => flow.find((n) => n.id === id)?.type === "gateway-config")).be.true(`${f}: ${skipped.join(", ")} clash`);
  }
  const gateways = await page.evaluate(() => {
    const ids: string[] = [];
    (window as unknown as Win).RED.nodes.eachConfig((n) => { if (n.type === "gateway-config") ids.push(n.id); });
    return ids;
  });
  const platforms = new Set(files.map((f) => load(f).find((n) => n.type === "gateway-config")?.platform));
  should(gateways.length).equal(platforms.size);
  // and every node of every example uses it, so the gateway is set up once
  const refs = await page.evaluate(() => {
    const out: string[] = [];
    (window as unknown as { RED: { nodes: { eachNode(cb: (n: { gateway?: string }) => void): void } } }).RED.nodes.eachNode((n) => { if (n.gateway) out.push(n.gateway); });
    return [...new Set(out)];
  });
  should(refs.sort()).eql([...gateways].sort());
}

for (const runtime of runtimes()) {
  describe(`examples imported in Chromium, Node-RED ${runtime.label}`, function () {
    this.timeout(120000);
    const rig = editorRig();

    it("leave one gateway-config per platform after importing every example", async () => {
      const { red, browser } = await rig.start([{ id: "t0", type: "tab", label: "empty" }], OURS);
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      const failed = `/tmp/iotgw-examples-${runtime.label}-failed.png`;
      try {
        await importAll(page, red);
      } catch (err) {
        await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${failed}; page errors: ${pageErrors.join(" | ")})`);
      }
      should(pageErrors).eql([]);
    });
  });
}
