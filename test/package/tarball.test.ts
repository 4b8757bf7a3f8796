// What a user gets from `npm install node-red-contrib-iot-gateway`: the packed tarball installed
// into a fresh Node-RED user directory, a real Node-RED started on it, and its admin HTTP API
// asked what the editor would ask. The node list comes from package.json at test time, so nodes
// added later are covered without touching this file.
import { spawn, execFile, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { strict as assert } from "assert";
import "should";

const MODULE = "node-red-contrib-iot-gateway";
const ROOT = findRoot(__dirname, process.cwd());

interface NodeSetInfo {
  id: string;
  name: string;
  types: string[];
  enabled: boolean;
  module?: string;
  version?: string;
  err?: unknown;
}

type Catalog = Record<string, unknown>;

function findRoot(...starts: string[]): string {
  for (const from of starts) {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const pj = path.join(dir, "package.json");
      if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, "utf8")).name === MODULE) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`no ${MODULE} package.json above ${starts.join(" or ")}`);
}

function packageJson(): { version: string; "node-red": { nodes: Record<string, string> } } {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
}

/** The environment without what an enclosing `npm test` exports (npm_config_local_prefix would
 *  make a nested `npm install` install into this repository instead of the user directory). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  return env;
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Splits GET /nodes (text/html) into each node set's part, keyed by set id. */
function sections(html: string): Map<string, string> {
  const out = new Map<string, string>();
  const marker = /<!-- --- \[red-module:([^\]]+)\] --- -->/g;
  const found = [...html.matchAll(marker)];
  found.forEach((m, i) => out.set(m[1], html.slice(m.index! + m[0].length, i + 1 < found.length ? found[i + 1].index : html.length)));
  return out;
}

function lookup(catalog: Catalog, key: string): unknown {
  return key.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Catalog)[k] : undefined), catalog);
}

/** i18n keys an editor file uses: data-i18n="[attr]key;key2" and this._("key") / RED._("key"). */
function i18nKeys(html: string): Array<{ key: string; via: string }> {
  const keys: Array<{ key: string; via: string }> = [];
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const part of m[1].split(";")) keys.push({ key: part.replace(/^\[[^\]]*\]/, ""), via: "data-i18n" });
  }
  // Only whole literals: a key built at run time ("x." + k) cannot be checked here.
  for (const m of html.matchAll(/\b(this|RED|node)\._\(\s*["']([^"']+)["']\s*[,)]/g)) keys.push({ key: m[2], via: `${m[1]}._` });
  return keys;
}

function helpText(section: string, type: string): string | undefined {
  const m = section.match(new RegExp(`<script type="text/(?:html|x-red)" data-help-name="${type}">([\\s\\S]*?)</script>`));
  return m?.[1];
}

/** The tarball `npm publish` would upload (prepack builds), packed once for every runtime. */
let packed: Promise<string> | undefined;
function pack(): Promise<string> {
  packed ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iot-gw-pack-"));
    await run("npm", ["pack", "--pack-destination", dir, "--silent"], ROOT);
    const tgz = fs.readdirSync(dir).filter((f) => f.endsWith(".tgz"));
    tgz.should.have.length(1);
    return path.join(dir, tgz[0]);
  })();
  return packed;
}

interface Runtime {
  label: string;
  /** Path of the runtime's red.js; may install it into `tmp` first. */
  redJs(tmp: string): Promise<string>;
}

const RUNTIMES: Runtime[] = [
  { label: "Node-RED 4 (the devDependency)", redJs: async () => require.resolve("node-red/red.js", { paths: [ROOT] }) },
  {
    // The oldest Node-RED the package declares it supports ("node-red".version >=3.1.0).
    label: "Node-RED 3.1",
    redJs: async (tmp) => {
      const dir = path.join(tmp, "runtime");
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "runtime", version: "0.0.1", private: true }));
      await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--omit=optional", "node-red@~3.1.0"], dir);
      const redJs = path.join(dir, "node_modules", "node-red", "red.js");
      JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "node-red", "package.json"), "utf8")).version.should.match(/^3\.1\./);
      return redJs;
    },
  },
];

after(() => {
  if (packed) void packed.then((tgz) => fs.rmSync(path.dirname(tgz), { recursive: true, force: true }), () => undefined);
});

for (const runtime of RUNTIMES)
describe(`the packed tarball in a fresh user directory of ${runtime.label}`, function () {
  this.timeout(150000);
  let tmp: string;
  let userDir: string;
  let red: ChildProcess | undefined;
  let log = "";
  let base: string;
  let sets: Record<string, string>;

  before(async function () {
    this.timeout(150000);
    sets = packageJson()["node-red"].nodes;
    Object.keys(sets).length.should.be.above(0);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iot-gw-tarball-"));
    const tgz = await pack();
    const redJs = await runtime.redJs(tmp);

    userDir = path.join(tmp, "user");
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "node-red-project", description: "a fresh user directory", version: "0.0.1", private: true }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tgz], userDir);

    const settings = path.join(tmp, "settings.js");
    fs.writeFileSync(
      settings,
      `module.exports = ${JSON.stringify({
        uiHost: "127.0.0.1",
        flowFile: "flows.json",
        credentialSecret: false,
        logging: { console: { level: "info" } },
        telemetry: { enabled: false, updateNotification: false },
        diagnostics: { enabled: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false } },
      })};\n`,
    );
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      log = "";
      const child = spawn(process.execPath, [redJs, "-u", userDir, "-p", String(port), "--settings", settings], { cwd: tmp, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
      red = child;
      child.stdout!.on("data", (b: Buffer) => (log += b.toString()));
      child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
      const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(`Node-RED exited (${code ?? signal}) before it served:\n${log}`)));
      const ready = (async () => {
        const end = Date.now() + 60000;
        while (Date.now() < end && child.exitCode === null) {
          if (/Started flows/.test(log)) return "ready";
          await new Promise((r) => setTimeout(r, 50));
        }
        return `Node-RED did not start flows within 60 s:\n${log}`;
      })();
      const outcome = await Promise.race([ready, exited]);
      if (outcome === "ready") break;
      red = undefined;
      if (child.exitCode === null) child.kill("SIGKILL");
      if (attempt < 3 && /EADDRINUSE/.test(outcome)) continue; // someone took the port in between
      throw new Error(outcome);
    }
  });

  after(async function () {
    const child = red;
    red = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function get(url: string, headers: Record<string, string>): Promise<string> {
    const res = await fetch(base + url, { headers });
    res.status.should.equal(200, `GET ${url}`);
    return res.text();
  }

  it("lists every node set of package.json as enabled, at this version, with no error", async () => {
    const list = JSON.parse(await get("/nodes", { Accept: "application/json" })) as NodeSetInfo[];
    const ours = list.filter((s) => s.module === MODULE);
    for (const name of Object.keys(sets)) {
      const set = ours.find((s) => s.name === name);
      assert.ok(set, `node set "${name}" is not in GET /nodes`);
      assert.equal(set.err, undefined, `node set "${name}" failed to load: ${JSON.stringify(set.err)}`);
      assert.equal(set.enabled, true, `node set "${name}" is disabled`);
      set!.version!.should.equal(packageJson().version);
      set!.types.should.containEql(name);
    }
    // Only what package.json declares; nothing from elsewhere under the module's name.
    ours.map((s) => s.name).sort().should.eql(Object.keys(sets).sort());
  });

  it("serves each node's editor definition, form and help (the help from locales/en-US)", async () => {
    const html = sections(await get("/nodes", { Accept: "text/html", "Accept-Language": "en-US" }));
    const installed = path.join(userDir, "node_modules", MODULE);
    for (const [name, file] of Object.entries(sets)) {
      const section = html.get(`${MODULE}/${name}`);
      assert.ok(section, `no editor HTML for node set "${name}"`);
      const types = [...section!.matchAll(/RED\.nodes\.registerType\(\s*["']([^"']+)["']/g)].map((m) => m[1]);
      types.should.containEql(name);
      for (const type of types) {
        section!.should.containEql(`data-template-name="${type}"`);
        const help = helpText(section!, type);
        assert.ok(help !== undefined, `no help for "${type}" (data-help-name)`);
        help!.replace(/<[^>]+>/g, "").trim().length.should.be.above(40, `the help of "${type}" is nearly empty`);
      }
      // The help is the one in locales/en-US beside the node's .js in the installed package.
      const localeHelp = path.join(installed, path.dirname(file), "locales", "en-US", path.basename(file).replace(/\.js$/, ".html"));
      assert.ok(fs.existsSync(localeHelp), `${path.relative(installed, localeHelp)} is not in the tarball`);
      const fromLocale = helpText(fs.readFileSync(localeHelp, "utf8"), name);
      assert.ok(fromLocale !== undefined, `${path.relative(installed, localeHelp)} has no data-help-name="${name}"`);
      helpText(section!, name)!.trim().should.equal(fromLocale!.trim());
      // Icons the definition names are served.
      for (const m of section!.matchAll(/\bicon\s*:\s*["']([^"']+\.(?:svg|png))["']/g)) {
        if (m[1].includes("/")) continue; // a core icon (e.g. "font-awesome/fa-x")
        const res = await fetch(`${base}/icons/${MODULE}/${m[1]}`);
        res.status.should.equal(200, `icon ${m[1]} of "${name}"`);
        await res.arrayBuffer();
      }
    }
  });

  it("resolves every label and message key the editor uses from the node's en-US catalog", async () => {
    const html = sections(await get("/nodes", { Accept: "text/html", "Accept-Language": "en-US" }));
    const catalogs = JSON.parse(await get("/nodes/messages?lng=en-US", { Accept: "application/json" })) as Record<string, Catalog>;
    for (const name of Object.keys(sets)) {
      const id = `${MODULE}/${name}`;
      const catalog = catalogs[id];
      assert.ok(catalog && typeof catalog === "object", `no message catalog for "${name}" (locales/en-US/${name}.json)`);
      assert.ok(typeof lookup(catalog, `${name}.label`) === "object", `the catalog of "${name}" has no ${name}.label strings`);
      const problems: string[] = [];
      const keys = i18nKeys(html.get(id) ?? "");
      for (const { key, via } of keys) {
        const [ns, k] = key.includes(":") ? key.split(":", 2) : [id, key];
        if (ns === "node-red" || ns === "editor") continue; // Node-RED's own strings
        const value = lookup(catalogs[ns] ?? {}, k);
        if (typeof value !== "string" || value === "") problems.push(`${via} "${key}" has no string in ${ns}`);
        else if (via === "RED._" && !key.includes(":")) problems.push(`RED._("${key}") needs the "${id}:" namespace (or this._) to find the node's catalog`);
      }
      problems.should.eql([], `"${name}": ${problems.join("; ")}`);
    }
  });

  it("runs a flow with one node of every type (no type missing at runtime)", async () => {
    const types = Object.keys(sets);
    const flows = [{ id: "t", type: "tab", label: "every type" }, ...types.map((type, i) => ({ id: `n${i}`, type, z: "t", x: 100, y: 40 + 40 * i, wires: [] }))];
    const before = (log.match(/Started flows/g) ?? []).length;
    const res = await fetch(`${base}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify({ flows }),
    });
    res.status.should.equal(200, await res.clone().text());
    await res.text();
    const end = Date.now() + 20000;
    while ((log.match(/Started flows/g) ?? []).length === before && !/Waiting for missing types/.test(log) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    log.should.not.match(/Waiting for missing types/);
    (log.match(/Started flows/g) ?? []).length.should.equal(before + 1, `the flows did not start:\n${log}`);
    const deployed = JSON.parse(await get("/flows", { Accept: "application/json", "Node-RED-API-Version": "v2" })) as { flows: Array<{ type: string }> };
    deployed.flows.map((n) => n.type).should.containDeep(types);
  });
});
