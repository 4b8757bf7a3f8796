// Child process entry: the one Modbus TCP server of the benchmark (modbus-serial's ServerTCP,
// all unit ids), in its own process so that its work does not share a CPU with the client under
// test. Every FC3/FC4 request is counted per unit with the registers it served, and answered
// after a fixed delay that models a device's/network's round trip. "parallel" answers every
// request after its own delay (what ServerTCP does: requests pipelined on one connection are
// worked on at once); "serial" works on one request at a time (a TCP-to-RTU gateway, or a
// device that handles one request at a time).
import net from "net";
import { ServerTCP } from "modbus-serial";
import { UNITS, seedRegisters } from "./modbus-map";

export interface ServerConfig {
  delayMs: number;
  serial: boolean;
}

export interface ServerCounts {
  /** FC3/FC4 requests served, per unit id. */
  requests: Record<string, number>;
  /** Registers served, per unit id. */
  registers: Record<string, number>;
  /** Most requests being worked on at once (queued ones included in serial mode). */
  maxConcurrent: number;
  connections: number;
  /** Requests for a unit or address the map does not have. */
  strays: number;
}

export type ServerRequest =
  | { id: number; cmd: "config"; config: ServerConfig }
  | { id: number; cmd: "counts" }
  | { id: number; cmd: "resetPeak" }
  | { id: number; cmd: "stop" };

type Cb = (err: Error | null, v: number[]) => void;

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

async function main(): Promise<void> {
  const port = await freePort();
  const config: ServerConfig = { delayMs: 2, serial: false };
  const tables = new Map(UNITS.map((u) => [u, seedRegisters(u)]));
  const counts: ServerCounts = { requests: {}, registers: {}, maxConcurrent: 0, connections: 0, strays: 0 };
  let working = 0;
  const queue: Array<() => void> = [];
  let busy = false;

  const next = (): void => {
    const job = queue.shift();
    if (!job) {
      busy = false;
      return;
    }
    busy = true;
    job();
  };

  const read = (area: "holding" | "input") => (addr: number, length: number, unit: number, cb: Cb): void => {
    const t = tables.get(unit);
    counts.requests[unit] = (counts.requests[unit] ?? 0) + 1;
    counts.registers[unit] = (counts.registers[unit] ?? 0) + length;
    const out: number[] = [];
    for (let a = addr; a < addr + length; a++) {
      const v = t?.[area].get(a);
      out.push(v ?? 0);
    }
    if (!t) counts.strays++;
    working++;
    counts.maxConcurrent = Math.max(counts.maxConcurrent, working);
    const answer = (): void => {
      working--;
      cb(null, out);
    };
    if (config.serial) {
      queue.push(() => setTimeout(() => { answer(); next(); }, config.delayMs));
      if (!busy) next();
    } else if (config.delayMs > 0) setTimeout(answer, config.delayMs);
    else answer();
  };

  const server = new ServerTCP({
    getMultipleHoldingRegisters: read("holding"),
    getMultipleInputRegisters: read("input"),
    getHoldingRegister: (addr: number, unit: number, cb: (e: Error | null, v: number) => void) => read("holding")(addr, 1, unit, (e, v) => cb(e, v[0])),
    getInputRegister: (addr: number, unit: number, cb: (e: Error | null, v: number) => void) => read("input")(addr, 1, unit, (e, v) => cb(e, v[0])),
    getCoil: (_a: number, _u: number, cb: (e: Error | null, v: boolean) => void) => cb(null, false),
    getDiscreteInput: (_a: number, _u: number, cb: (e: Error | null, v: boolean) => void) => cb(null, false),
    setRegister: () => undefined,
    setCoil: () => undefined,
  }, { host: "127.0.0.1", port, unitID: 255 });
  server.on("socketError", () => undefined);
  // ServerTCP keeps its net.Server in `_server` (its port option cannot be 0)
  (server as unknown as { _server: net.Server })._server.on("connection", () => counts.connections++);
  server.on("initialized", () => process.send?.({ ready: port }));
  (server as unknown as NodeJS.EventEmitter).on("serverError", (e: Error) => {
    console.error(`modbus bench server: ${e.message}`);
    process.exit(1);
  });

  process.on("message", (r: ServerRequest) => {
    switch (r.cmd) {
      case "config":
        Object.assign(config, r.config);
        process.send?.({ id: r.id, result: null });
        break;
      case "resetPeak":
        counts.maxConcurrent = working;
        process.send?.({ id: r.id, result: null });
        break;
      case "counts":
        process.send?.({ id: r.id, result: JSON.parse(JSON.stringify(counts)) as ServerCounts });
        break;
      case "stop":
        server.close(() => {
          process.send?.({ id: r.id, result: null });
          setImmediate(() => process.exit(0));
        });
        break;
    }
  });
  process.on("disconnect", () => process.exit(0));
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(e.stack ?? e);
    process.exit(1);
  });
}
