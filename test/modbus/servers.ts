// Test servers for the Modbus engine: modbus-serial's own ServerTCP in-process, and an
// independent pymodbus server (Debian's 3.0.0rc1, only importable by /usr/bin/python3) over TCP
// or RTU on a socat pseudo-terminal pair.
import { spawn, spawnSync, type ChildProcess } from "child_process";
import type { EventEmitter } from "events";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { ServerTCP } from "modbus-serial";
import { hasCommand } from "../support/peers";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Holding/input registers and coils/discretes of every unit, plus request counts. */
export interface TcpStore {
  holding: Map<number, number>;
  input: Map<number, number>;
  coil: Map<number, boolean>;
  discrete: Map<number, boolean>;
  /** Addresses that answer "illegal data address" (holding only). */
  illegal: Set<number>;
  /** Units that never answer. */
  dead: Set<number>;
  /** FC3 + FC4 requests served, per unit. */
  registerReads: Map<number, number>;
  /** Answer register reads after this long. */
  delayMs: number;
  /** Most register reads the server was working on at once. */
  maxConcurrent: number;
}

export function newStore(): TcpStore {
  return { holding: new Map(), input: new Map(), coil: new Map(), discrete: new Map(), illegal: new Set(), dead: new Set(), registerReads: new Map(), delayMs: 0, maxConcurrent: 0 };
}

type Cb<T> = (err: Error | null, v: T) => void;

export class InProcessServer {
  private constructor(readonly server: ServerTCP, readonly port: number) {}

  static async start(store: TcpStore, port?: number): Promise<InProcessServer> {
    const p = port ?? (await freePort());
    let working = 0;
    const count = (unit: number): void => { store.registerReads.set(unit, (store.registerReads.get(unit) ?? 0) + 1); };
    const regs = (table: Map<number, number>) => (addr: number, length: number, unit: number, cb: Cb<number[]>): void => {
      if (store.dead.has(unit)) return; // never answers
      count(unit);
      for (let a = addr; a < addr + length; a++) {
        if (table === store.holding && store.illegal.has(a)) return cb(Object.assign(new Error("illegal"), { modbusErrorCode: 2 }), []);
      }
      const out: number[] = [];
      for (let a = addr; a < addr + length; a++) out.push(table.get(a) ?? 0);
      if (store.delayMs <= 0) return cb(null, out);
      working++;
      store.maxConcurrent = Math.max(store.maxConcurrent, working);
      setTimeout(() => { working--; cb(null, out); }, store.delayMs);
    };
    const one = (table: Map<number, number>) => (addr: number, unit: number, cb: Cb<number>): void =>
      regs(table)(addr, 1, unit, (err, v) => cb(err, v[0]));
    const bit = (table: Map<number, boolean>) => (addr: number, unit: number, cb: Cb<boolean>): void => {
      if (store.dead.has(unit)) return;
      cb(null, table.get(addr) ?? false);
    };
    const server = new ServerTCP({
      getMultipleHoldingRegisters: regs(store.holding),
      getMultipleInputRegisters: regs(store.input),
      getHoldingRegister: one(store.holding),
      getInputRegister: one(store.input),
      getCoil: bit(store.coil),
      getDiscreteInput: bit(store.discrete),
      setRegister: (addr: number, value: number) => { store.holding.set(addr, value); },
      setCoil: (addr: number, value: boolean) => { store.coil.set(addr, value); },
    }, { host: "127.0.0.1", port: p, unitID: 255 });
    server.on("socketError", () => undefined); // a client dropping its socket is fine here
    await new Promise<void>((resolve, reject) => {
      server.on("initialized", () => resolve());
      server.on("serverError", (e: Error | null) => reject(e));
    });
    return new InProcessServer(server, p);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export const PYTHON = "/usr/bin/python3";
const SCRIPT = [
  path.resolve(__dirname, "../../../test/fixtures/pymodbus_server.py"),
  path.resolve(process.cwd(), "test/fixtures/pymodbus_server.py"),
].find((p) => fs.existsSync(p)) ?? "test/fixtures/pymodbus_server.py";

export function pymodbusAvailable(): boolean {
  if (!fs.existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ["-c", "import pymodbus.server.async_io"], { stdio: "ignore" }).status === 0;
}

export function socatAvailable(): boolean {
  return hasCommand("socat");
}

export interface PyUnitSpec {
  hr?: Record<string, number>;
  ir?: Record<string, number>;
  co?: Record<string, boolean>;
  di?: Record<string, boolean>;
  size?: number;
  holes?: { hr?: Array<[number, number]>; ir?: Array<[number, number]> };
}

export class PyModbusServer {
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly port: number, rl: readline.Interface) {
    rl.on("line", (line) => this.waiting.shift()?.(line));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static start(config: { mode: "tcp" | "rtu-over-tcp" | "rtu" | "ascii"; port: number | string; units: Record<string, PyUnitSpec> }): Promise<PyModbusServer> {
    const child = spawn(PYTHON, [SCRIPT, JSON.stringify(config)], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => { stderr += d.toString(); });
    const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`pymodbus server did not start: ${stderr}`)); }, 10000);
      child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`pymodbus server exited (${code}): ${stderr}`)); });
      rl.once("line", (line) => {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        const m = /^READY (\d+)$/.exec(line);
        if (!m) return reject(new Error(`unexpected output from pymodbus server: ${line}`));
        resolve(new PyModbusServer(child, Number(m[1]), rl));
      });
    });
  }

  command(cmd: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line)));
      this.child.stdin?.write(cmd + "\n");
    });
  }

  async counts(): Promise<Record<string, number>> {
    return (await this.command("counts")) as Record<string, number>;
  }

  async get(unit: number, table: "hr" | "ir" | "co" | "di", address: number, count: number): Promise<Array<number | boolean>> {
    return (await this.command(`get ${unit} ${table} ${address} ${count}`)) as Array<number | boolean>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** A pair of linked pseudo-terminals: the engine opens `a`, the server `b`. */
export class PtyPair {
  private constructor(private readonly child: ChildProcess, readonly a: string, readonly b: string) {}

  static async start(): Promise<PtyPair> {
    const base = path.join(os.tmpdir(), `modbus-pty-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const a = `${base}-a`;
    const b = `${base}-b`;
    const child = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
    for (let i = 0; i < 100 && !(fs.existsSync(a) && fs.existsSync(b)); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(fs.existsSync(a) && fs.existsSync(b))) {
      child.kill("SIGKILL");
      throw new Error("socat did not create the pty pair");
    }
    return new PtyPair(child, a, b);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** Resolves with the first `event` from `em` whose value passes `test`; rejects after `ms`. */
export function eventMatching<T>(em: EventEmitter, event: string, test: (v: T) => boolean, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (v: T): void => {
      if (!test(v)) return;
      clearTimeout(timer);
      em.removeListener(event, listener);
      resolve(v);
    };
    const timer = setTimeout(() => {
      em.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for ${event}`));
    }, ms);
    em.on(event, listener);
  });
}

/** Polls `cond` every 10 ms; rejects after `ms` naming `what`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
