// Long-running behaviour: polls that overrun are skipped, nothing grows, serial support is optional.
import { execFile } from "child_process";
import * as path from "path";
import should from "should";
import { ModbusLine } from "../../lib/modbus/line";
import { UnitPoller } from "../../lib/modbus/poller";
import type { MapEntry, PollResult } from "../../lib/modbus/types";
import { InProcessServer, newStore, until } from "./servers";

const MAP: MapEntry[] = [{ key: "a", area: "holding", address: 0, type: "uint16" }];

describe("modbus engine robustness", function () {
  it("skips a poll that comes due while the previous one still runs, never stacking them", async () => {
    const store = newStore();
    store.delayMs = 250;
    store.holding.set(0, 1);
    const server = await InProcessServer.start(store);
    const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 1000 });
    const p = new UnitPoller(line, { unitId: 1, map: MAP, periodMs: 50 });
    try {
      let skips = 0;
      p.on("skipped", () => skips++);
      p.start();
      await until(() => p.stats.skipped >= 3 && p.stats.polls >= 3, 10000, "three skipped polls");
      await p.stop();
      should(p.stats.skipped).be.above(0);
      should(skips).equal(p.stats.skipped);
      should(store.maxConcurrent).equal(1);
      should(line.queueLength).equal(0);
      should(store.registerReads.get(1)).equal(p.stats.polls);
    } finally {
      await p.stop();
      await line.close();
      await server.close();
    }
  });

  it("runs hundreds of cycles with a dead unit and reconnects without growing queues or listeners", async () => {
    const store = newStore();
    store.dead.add(9);
    store.holding.set(0, 1);
    let server = await InProcessServer.start(store);
    const port = server.port;
    const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port, timeoutMs: 30, retries: 0, reconnect: { initialMs: 20, maxMs: 40 } });
    const live = new UnitPoller(line, { unitId: 1, map: MAP, periodMs: 5 });
    const dead = new UnitPoller(line, { unitId: 9, map: MAP, periodMs: 5, backoff: { initialMs: 10, maxMs: 40 } });
    let values = 0;
    live.on("values", (_r: PollResult) => values++);
    dead.on("poll-error", () => undefined);
    live.on("poll-error", () => undefined);
    try {
      live.start();
      dead.start();
      await until(() => live.stats.polls >= 100 && dead.stats.failedPolls >= 5, 10000, "100 polls");
      const lineListeners = line.eventNames().map((n) => line.listenerCount(n));
      await server.close();
      await until(() => line.state.status !== "connected", 5000, "the line to notice");
      server = await InProcessServer.start(store, port);
      const before = values;
      await until(() => values > before + 100, 10000, "100 more polls after the restart");
      should(live.stats.failedPolls).equal(0);
      should(line.queueLength).be.below(3);
      should(line.eventNames().map((n) => line.listenerCount(n))).eql(lineListeners);
      should(live.listenerCount("values")).equal(1);
      should(line.stats.reconnects).be.above(0);
    } finally {
      await live.stop();
      await dead.stop();
      await line.close();
      await server.close();
    }
  });

  it("works over TCP where serialport is not installed, and says so for serial transports", async function () {
    const store = newStore();
    store.holding.set(0, 42);
    const server = await InProcessServer.start(store);
    try {
      // a child process in which require("serialport") fails, as after npm install --no-optional
      const lib = path.resolve(__dirname, "../../lib/modbus/index.js");
      const script = `
        const Module = require("module");
        const resolve = Module._resolveFilename;
        Module._resolveFilename = function (request, ...rest) {
          if (request === "serialport" || request.startsWith("@serialport/")) {
            const e = new Error("Cannot find module '" + request + "'"); e.code = "MODULE_NOT_FOUND"; throw e;
          }
          return resolve.call(this, request, ...rest);
        };
        const m = require(${JSON.stringify(lib)});
        (async () => {
          const tcp = new m.ModbusLine({ transport: "tcp", host: "127.0.0.1", port: ${server.port} });
          const value = await tcp.readRegisters(1, "holding", 0, 1);
          await tcp.close();
          const rtu = new m.ModbusLine({ transport: "rtu", path: "/dev/ttyUSB-none", reconnect: { initialMs: 60000 } });
          const err = await rtu.readRegisters(1, "holding", 0, 1).catch((e) => e);
          const state = rtu.state;
          await rtu.close();
          console.log(JSON.stringify({ value, error: err.message, state }));
        })();`;
      // async: the server answering the child lives in this process's event loop
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", script], { encoding: "utf8", timeout: 15000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
      const r = JSON.parse(out.trim().split("\n").pop() as string) as { value: number[]; error: string; state: { status: string; reason: string } };
      should(r.value).eql([42]);
      should(r.error).startWith("not connected to rtu /dev/ttyUSB-none: serial port support is not installed: Cannot find module 'serialport'");
      should(r.state.status).equal("disconnected");
    } finally {
      await server.close();
    }
  });
});

describe("modbus engine with a throwing listener", function () {
  it("keeps polling and reports the listener's bug as a warning instead of crashing", async () => {
    const store = newStore();
    store.holding.set(0, 1);
    const server = await InProcessServer.start(store);
    const line = new ModbusLine({ transport: "tcp", host: "127.0.0.1", port: server.port });
    const p = new UnitPoller(line, { unitId: 1, map: MAP, periodMs: 20 });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.message); };
    process.on("warning", onWarning);
    try {
      p.on("values", () => { throw new Error("bug in a flow"); });
      line.on("state", () => { throw new Error("bug in a status handler"); });
      p.start();
      await until(() => p.stats.polls >= 3 && warnings.length >= 3, 5000, "three polls");
      should(warnings).containEql('a listener of modbus "values" threw: bug in a flow');
      should(warnings).containEql('a listener of modbus "state" threw: bug in a status handler');
    } finally {
      process.removeListener("warning", onWarning);
      await p.stop();
      await line.close();
      await server.close();
    }
  });
});
