// Where the optional serialport package is missing (npm install --no-optional, or a platform
// without prebuilt binaries), the nodes still load, TCP works, and a serial connection says why
// it cannot open. Run in a child process whose module resolution refuses serialport.
import { execFile } from "child_process";
import * as path from "path";
import should from "should";
import { InProcessServer, newStore } from "../modbus/servers";

describe("modbus nodes without serialport installed", function () {
  it("load and poll over TCP, and a serial connection reports that serial support is missing", async () => {
    const store = newStore();
    store.holding.set(0, 42);
    const server = await InProcessServer.start(store);
    try {
      const red = path.resolve(__dirname, "../support/red.js");
      const support = path.resolve(__dirname, "modbus-support.js");
      const script = `
        const Module = require("module");
        const resolve = Module._resolveFilename;
        Module._resolveFilename = function (request, ...rest) {
          if (request === "serialport" || request.startsWith("@serialport/")) {
            const e = new Error("Cannot find module '" + request + "'"); e.code = "MODULE_NOT_FOUND"; throw e;
          }
          return resolve.call(this, request, ...rest);
        };
        const { helper, load, nextMsg } = require(${JSON.stringify(red)});
        const s = require(${JSON.stringify(support)});
        const map = [{ key: "a", area: "holding", address: 0, type: "uint16" }];
        (async () => {
          await new Promise((r) => helper.startServer(r));
          await load([
            s.sourceNode("tcp", { map }, [["out"], [], [], []]),
            { id: "out", type: "helper" },
            s.connectionNode(${server.port}),
            s.sourceNode("ser", { map, connection: "serial", device: "Serial 1" }),
            { id: "serial", type: "modbus-connection", transport: "rtu", path: "/dev/ttyUSB-none" },
          ]);
          const m = await nextMsg("out");
          const out = {
            payload: m.payload,
            connectionErrors: s.callsOf("serial", "error").map((a) => String(a[0])),
            sourceErrors: s.callsOf("ser", "error").map((a) => String(a[0])),
            status: s.lastStatus("ser"),
          };
          await helper.unload();
          await new Promise((r) => helper.stopServer(r));
          console.log(JSON.stringify(out));
          process.exit(0);
        })().catch((e) => { console.error(e); process.exit(1); });`;
      // async: the server answering the child lives in this process's event loop
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20000, cwd: process.cwd() }, (err, so, se) =>
          err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so)));
      const r = JSON.parse(stdout.trim().split("\n").pop() as string) as { payload: unknown; connectionErrors: string[]; sourceErrors: string[]; status: { fill: string; text: string } };
      should(r.payload).eql({ a: 42 });
      const why = "serial port support is not installed (Cannot find module 'serialport'); run npm install serialport in the Node-RED user directory, or use Modbus TCP / RTU over TCP";
      should(r.connectionErrors).eql([`modbus-connection: ${why}`]);
      should(r.sourceErrors).eql([`modbus-source: ${why}`]);
      should(r.status).eql({ fill: "red", shape: "ring", text: "serial port support is not installed" });
    } finally {
      await server.close();
    }
  });
});
