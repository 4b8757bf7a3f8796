// Opening a link for each transport: a TCP socket (Modbus TCP, RTU over TCP) or a serial port
// (RTU, ASCII), wrapped as a ByteStream and framed by lib/modbus/link.ts. serialport is an
// optional dependency: TCP must keep working without it, and serial transports must say why
// they fail.
import * as net from "net";
import { ModbusError, errorMessage } from "./errors";
import type { ByteStream, Link } from "./link";
import { SerialLink } from "./serial-link";
import { TcpLink } from "./tcp-link";
import type { LineOptions } from "./types";

export type { Link } from "./link";

export function describeTarget(o: LineOptions): string {
  switch (o.transport) {
    case "tcp":
    case "rtu-over-tcp":
      return `${o.transport} ${o.host ?? "?"}:${o.port ?? 502}`;
    case "rtu":
    case "ascii":
      return `${o.transport} ${o.path ?? "?"}`;
  }
}

/** Problems with the options themselves (not the network): reported before any connect. */
export function checkLineOptions(o: LineOptions): string[] {
  const errors: string[] = [];
  const transports = ["tcp", "rtu", "rtu-over-tcp", "ascii"];
  if (!transports.includes(o.transport)) errors.push(`transport must be one of ${transports.join(", ")}, got ${JSON.stringify(o.transport)}`);
  if (o.transport === "tcp" || o.transport === "rtu-over-tcp") {
    if (!o.host) errors.push(`${o.transport} needs a host`);
    if (o.port !== undefined && !(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) errors.push("port must be 1..65535");
  }
  if ((o.transport === "rtu" || o.transport === "ascii") && !o.path) errors.push(`${o.transport} needs a serial port path`);
  const pos = (v: number | undefined, name: string, min = 1): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= min)) errors.push(`${name} must be a number >= ${min}`);
  };
  pos(o.timeoutMs, "timeoutMs");
  pos(o.retries, "retries", 0);
  pos(o.interRequestDelayMs, "interRequestDelayMs", 0);
  pos(o.queueLimit, "queueLimit");
  pos(o.connectTimeoutMs, "connectTimeoutMs");
  pos(o.baudRate, "baudRate");
  pos(o.dropAfterTimeouts, "dropAfterTimeouts", 0);
  pos(o.recoveryMs, "recoveryMs", 0);
  if (o.inFlight !== undefined && !(Number.isInteger(o.inFlight) && o.inFlight >= 1 && o.inFlight <= 64)) errors.push("inFlight must be an integer 1..64");
  if (o.inFlight !== undefined && o.inFlight > 1 && o.transport !== "tcp") errors.push(`inFlight above 1 needs Modbus TCP (transaction ids); ${o.transport} takes one request at a time`);
  return errors;
}

function serialMissing(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === "MODULE_NOT_FOUND" && /serialport/.test(errorMessage(err));
}

function socketStream(s: net.Socket): ByteStream {
  let reason = "";
  s.on("error", (e) => { reason = e.message; });
  return {
    write: (b) => { s.write(b); },
    on(event: "data" | "close", cb: ((b: Buffer) => void) & ((r: string) => void)) {
      if (event === "data") s.on("data", cb);
      else s.once("close", () => cb(reason || "connection closed by the other end"));
    },
    destroy: () => s.destroy(),
  };
}

function openSocket(o: LineOptions, timeoutMs: number): Promise<ByteStream> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: o.host ?? "", port: o.port ?? 502 });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer within ${timeoutMs} ms`)); }, timeoutMs);
    s.once("error", (e) => { clearTimeout(timer); s.destroy(); reject(e); });
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      s.setNoDelay(true);
      s.setKeepAlive(true, 10000);
      resolve(socketStream(s));
    });
  });
}

interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(b: Buffer): boolean;
  on(event: string, cb: (...a: never[]) => void): void;
  readonly isOpen: boolean;
}

function openSerial(o: LineOptions): Promise<ByteStream> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require("serialport") as { SerialPort: new (opts: object) => SerialPortLike };
  const port = new SerialPort({
    path: o.path ?? "", autoOpen: false,
    baudRate: o.baudRate ?? 9600, dataBits: o.dataBits ?? 8, stopBits: o.stopBits ?? 1, parity: o.parity ?? "none",
  });
  let reason = "";
  port.on("error", (e: Error) => { reason = e.message; });
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) return reject(err);
      resolve({
        write: (b) => { port.write(b); },
        on(event: "data" | "close", cb: ((b: Buffer) => void) & ((r: string) => void)) {
          if (event === "data") port.on("data", cb);
          else port.on("close", () => cb(reason || "serial port closed"));
        },
        destroy: () => { if (port.isOpen) port.close(() => undefined); },
      });
    });
  });
}

/**
 * Opens a new link. Rejects with a ModbusError naming the target; a connect that neither
 * succeeds nor fails within `connectTimeoutMs` is abandoned (and its socket destroyed).
 */
export async function openLink(o: LineOptions, connectTimeoutMs: number): Promise<Link> {
  const target = describeTarget(o);
  const recoveryMs = o.recoveryMs ?? o.timeoutMs ?? 1000;
  try {
    if (o.transport === "tcp") return new TcpLink(await openSocket(o, connectTimeoutMs), o.inFlight ?? 1);
    if (o.transport === "rtu-over-tcp") return new SerialLink(await openSocket(o, connectTimeoutMs), "rtu", recoveryMs);
    return new SerialLink(await openSerial(o), o.transport === "ascii" ? "ascii" : "rtu", recoveryMs);
  } catch (err) {
    if (serialMissing(err)) {
      throw new ModbusError("transport", `serial port support is not installed: ${errorMessage(err).split("\n")[0]} (install the optional dependency: npm install serialport)`);
    }
    throw new ModbusError("transport", `cannot connect to ${target}: ${errorMessage(err)}`);
  }
}
