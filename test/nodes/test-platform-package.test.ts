// The test platform works from the installed package: the tarball carries the emulators (and no
// tests or benchmarks), and nothing it ships loads a module that only a developer has installed.
import { execFileSync } from "child_process";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import should from "should";

const ROOT = path.resolve(__dirname, "../../..");

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  "node-red": { plugins?: Record<string, string> };
}

function packed(): string[] {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
}

/** Package names a compiled file requires (relative paths and Node's own modules left out). */
function required(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const names: string[] = [];
  for (const m of text.matchAll(/\brequire\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
    const spec = m[1].replace(/^node:/, "");
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (!builtinModules.includes(name)) names.push(name);
  }
  return names;
}

describe("test platform: what the package ships", function () {
  this.timeout(60000);
  let files: string[];
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;

  before(() => {
    files = packed();
  });

  it("carries the three emulators, the plugin and its editor script, and no tests or benchmarks", () => {
    for (const f of ["dist/emulator/thingsboard/index.js", "dist/emulator/thingspanel/index.js", "dist/emulator/watson/index.js", "dist/nodes/test-platform.js", "dist/nodes/test-platform.html", "dist/nodes/common/test-platform.js", "resources/test-platform.js"]) {
      files.should.containEql(f);
    }
    should(pkg["node-red"].plugins).eql({ "test-platform": "dist/nodes/test-platform.js" });
    should(files.filter((f) => /^dist\/(test|bench)\//.test(f) || /\.test\.js$/.test(f))).eql([]);
  });

  it("every module a shipped file loads is a dependency, not a devDependency", () => {
    // node-red: the host itself (gateway-config asks its version when the runtime does not tell)
    const allowed = new Set(["node-red", ...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
    const missing: string[] = [];
    for (const f of files.filter((f) => f.endsWith(".js") && f.startsWith("dist/"))) for (const name of required(f)) if (!allowed.has(name)) missing.push(`${f}: ${name}`);
    should(missing).eql([]);
  });
});

describe("test platform: from the installed package", function () {
  this.timeout(180000);
  let tmp: string | undefined;

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("starts each platform, and an MQTT client reaches the ThingsBoard one, with only the dependencies installed", async () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^npm_/i.test(k) || k === "INIT_CWD") delete env[k];
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "iotgw-tp-installed-"));
    tmp = dir;
    // the tarball of what is built (npm test builds first), installed as a user's palette install would
    execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir, "--silent"], { cwd: ROOT, env, encoding: "utf8" });
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "user-dir", version: "0.0.1", private: true }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--omit=optional", path.join(dir, tgz)], { cwd: dir, env, encoding: "utf8" });
    // a process that resolves modules from the user directory only
    const script = `
      const { testPlatforms } = require("node-red-contrib-iot-gateway/dist/nodes/common/test-platform");
      (async () => {
        const out = [];
        for (const p of ["thingsboard", "thingspanel", "watson", "modbus"]) out.push((await testPlatforms.start(p, p === "modbus" ? ${await freePortLocal()} : 0)).platform);
        const tb = testPlatforms.list()[0];
        const client = require("mqtt").connect(tb.url, { username: "GATEWAY_TOKEN", reconnectPeriod: 0 });
        await new Promise((res, rej) => { client.once("connect", res); client.once("error", rej); });
        out.push("connected:" + testPlatforms.info(tb.id).gatewayConnected);
        client.end(true);
        await testPlatforms.stopAll();
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e && e.stack || e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ["-e", script], { cwd: dir, env: { ...env, NODE_PATH: "" }, encoding: "utf8" });
    should(JSON.parse(out.trim().split("\n").pop()!)).eql(["thingsboard", "thingspanel", "watson", "modbus", "connected:true"]);
  });
});

function freePortLocal(): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require("net") as typeof import("net");
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as import("net").AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("test platform: its editor strings", () => {
  it("every key resources/test-platform.js names is in the en-US catalogue (de and zh-CN: i18n.test)", () => {
    const script = fs.readFileSync(path.join(ROOT, "resources", "test-platform.js"), "utf8");
    const catalogue = JSON.parse(fs.readFileSync(path.join(ROOT, "nodes", "locales", "en-US", "test-platform.json"), "utf8")) as { "test-platform": Record<string, Record<string, string>> };
    const keys = [...script.matchAll(/\bt\("((?:ui|errors)\.[\w-]+)"/g)].map((m) => m[1]);
    keys.length.should.be.above(20);
    should(keys.filter((k) => {
      const [group, name] = k.split(".");
      return typeof catalogue["test-platform"][group]?.[name] !== "string";
    })).eql([]);
    // and every code the runtime answers with has its sentence
    const runtime = ["adapters", "types", "", "routes"].map((f) => fs.readFileSync(path.join(ROOT, "nodes", "common", `test-platform${f ? "-" + f : ""}.ts`), "utf8")).join("\n");
    const codes = [...runtime.matchAll(/new TestPlatformError\("([\w-]+)"/g)].map((m) => m[1]);
    codes.length.should.be.above(10);
    should([...new Set(codes)].filter((c) => typeof catalogue["test-platform"].errors[c] !== "string")).eql([]);
  });
});
