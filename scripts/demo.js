// `npm start`: the ThingsBoard emulator on 127.0.0.1:1883, a Modbus boiler simulator on
// 127.0.0.1:5020, and a Node-RED on 127.0.0.1:1880 with this package installed and the example
// flows deployed against them. The emulator prints what it accepts. Ctrl-C stops all three. The
// user directory is .demo/ (ignored by git).
"use strict";
const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");

const root = path.join(__dirname, "..");
const userDir = path.join(root, ".demo");
const MQTT_PORT = Number(process.env.DEMO_MQTT_PORT || 1883);
const UI_PORT = Number(process.env.DEMO_UI_PORT || 1880);
const MODBUS_PORT = Number(process.env.DEMO_MODBUS_PORT || 5020);
const TOKEN = "GATEWAY_TOKEN";
// `npm start -- --platform thingspanel`: the ThingsPanel emulator and the thingspanel-* examples.
const PLATFORM = process.argv.includes("--platform") ? process.argv[process.argv.indexOf("--platform") + 1] : "thingsboard";
const DEVICE_NUMBER = "GW-0001";

/** Example flows, each on its own tab, pointed at the emulator. */
function demoFlows() {
  // `npm start -- --platform watson`: the Watson IoT emulator and the watson-* examples.
  const prefix = PLATFORM === "thingspanel" || PLATFORM === "watson" ? `${PLATFORM}-` : null;
  const files = fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".json") && (prefix ? f.startsWith(prefix) : !/^(thingspanel|watson)-/.test(f))).sort();
  const flows = [];
  const credentials = {};
  let gatewayId;
  for (const file of files) {
    const tab = "demo-tab-" + file.replace(/\W/g, "-");
    flows.push({ id: tab, type: "tab", label: file.replace(/\.json$/, "") });
    for (const node of JSON.parse(fs.readFileSync(path.join(root, "examples", file), "utf8"))) {
      if (node.type === "gateway-config") {
        // one gateway for every example: one session, as a user would have it
        if (!gatewayId) {
          gatewayId = node.id;
          flows.push({ ...node, url: `mqtt://127.0.0.1:${MQTT_PORT}`, auth: "token", ...(PLATFORM === "thingspanel" ? { platform: "thingspanel", deviceNumber: DEVICE_NUMBER } : {}), ...(PLATFORM === "watson" ? { platform: "watson", protocolVersion: "4", watsonOrg: "abc123", watsonType: "gateway-type", watsonId: "gateway-1" } : {}) });
          credentials[node.id] = { token: TOKEN };
        }
        continue;
      }
      const copy = { ...node };
      if (copy.type === "modbus-connection") Object.assign(copy, { host: "127.0.0.1", port: String(MODBUS_PORT) });
      if (!("z" in copy) && "x" in copy) copy.z = tab;
      flows.push(copy);
    }
  }
  // every reference to an example's own gateway goes to the shared one
  const ids = new Set(flows.filter((n) => n.type === "gateway-config").map((n) => n.id));
  for (const n of flows) if (n.gateway && !ids.has(n.gateway)) n.gateway = gatewayId;
  return { flows, credentials };
}

function prepareUserDir() {
  fs.mkdirSync(path.join(userDir, "node_modules"), { recursive: true });
  const link = path.join(userDir, "node_modules", "node-red-contrib-iot-gateway");
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, "dir");
  fs.writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "iot-gateway-demo", private: true, dependencies: { "node-red-contrib-iot-gateway": "*" } }, null, 2));
  const { flows, credentials } = demoFlows();
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(flows, null, 2));
  fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(credentials, null, 2));
  fs.writeFileSync(
    path.join(userDir, "settings.js"),
    `module.exports = { uiHost: "127.0.0.1", uiPort: ${UI_PORT}, flowFile: "flows.json", credentialSecret: false, logging: { console: { level: "info" } } };\n`,
  );
}

async function main() {
  const stamp = () => new Date().toISOString().slice(11, 23);
  let emu;
  if (PLATFORM === "thingspanel") {
    const { ThingsPanelEmulator } = require(path.join(root, "dist", "emulator", "thingspanel"));
    const { DEMO_SUB_DEVICES } = require(path.join(root, "dist", "emulator", "thingspanel", "cli"));
    emu = await ThingsPanelEmulator.start({
      port: MQTT_PORT,
      gateways: [{ deviceNumber: DEVICE_NUMBER, username: TOKEN }],
      subDevices: { [DEVICE_NUMBER]: DEMO_SUB_DEVICES },
      log: (line) => console.log(`[emulator] ${stamp()} ${line}`),
    });
    console.log(`[emulator] ThingsPanel emulator on ${emu.url}, gateway device number "${DEVICE_NUMBER}", token "${TOKEN}"`);
  } else if (PLATFORM === "watson") {
    const { WatsonEmulator } = require(path.join(root, "dist", "emulator", "watson"));
    emu = await WatsonEmulator.start({ port: MQTT_PORT, log: (line) => console.log(`[emulator] ${stamp()} ${line}`) });
    console.log(`[emulator] Watson IoT emulator on ${emu.url}, org "abc123", gateway type "gateway-type", id "gateway-1", token "${TOKEN}"`);
  } else {
    const { ThingsBoardEmulator } = require(path.join(root, "dist", "emulator", "thingsboard"));
    emu = await ThingsBoardEmulator.start({
      port: MQTT_PORT,
      gateways: [{ name: "Gateway", token: TOKEN }],
      log: (line) => console.log(`[emulator] ${stamp()} ${line}`),
    });
    emu.allowProvisioning({ key: "PROVISION_KEY", secret: "PROVISION_SECRET" }); // the gateway-provisioning example
    console.log(`[emulator] ThingsBoard emulator on ${emu.url}, gateway token "${TOKEN}", provision key "PROVISION_KEY", secret "PROVISION_SECRET"`);
  }
  const { startModbusSimulator } = require(path.join(root, "dist", "emulator", "modbus-sim"));
  const sim = await startModbusSimulator({ port: MODBUS_PORT, log: (line) => console.log(`[modbus-sim] ${line}`) });
  console.log(`[modbus-sim] boiler on modbus tcp://127.0.0.1:${sim.port}, unit 1`);
  prepareUserDir();
  const red = spawn(process.execPath, [require.resolve("node-red/red.js"), "-u", userDir, "-s", path.join(userDir, "settings.js")], { stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (stream, out) => stream.on("data", (d) => String(d).split("\n").filter(Boolean).forEach((l) => out.write(`[node-red] ${l}\n`)));
  prefix(red.stdout, process.stdout);
  prefix(red.stderr, process.stderr);
  console.log(`[demo] Node-RED editor: http://127.0.0.1:${UI_PORT}/  (Ctrl-C stops the demo)`);
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    red.kill("SIGINT");
    await new Promise((r) => (red.exitCode !== null ? r() : red.once("exit", r)));
    await sim.stop();
    await emu.stop();
    process.exit(code);
  };
  red.on("exit", (code) => stop(code ?? 0));
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
}

main().catch((err) => {
  console.error("[demo]", err && err.message ? err.message : err);
  process.exit(1);
});
