// Opening a modbus-serial client for each transport. serialport is an optional dependency of
// modbus-serial: TCP must keep working without it, and serial transports must say why they fail.
import type { EventEmitter } from "events";
import ModbusRTU from "modbus-serial";
import { ModbusError, errorMessage } from "./errors";
import type { LineOptions } from "./types";

export type Client = ModbusRTU;

/** modbus-serial's client is an EventEmitter at runtime; its typings only declare `on`. */
export function emitterOf(client: Client): EventEmitter {
  return client as unknown as EventEmitter;
}

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
  return errors;
}

function serialMissing(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === "MODULE_NOT_FOUND" && /serialport/.test(errorMessage(err));
}

function start(client: Client, o: LineOptions): Promise<void> {
  const serial = {
    baudRate: o.baudRate ?? 9600,
    dataBits: o.dataBits ?? 8,
    stopBits: o.stopBits ?? 1,
    parity: o.parity ?? "none",
  };
  try {
    switch (o.transport) {
      case "tcp":
        return client.connectTCP(o.host ?? "", { port: o.port ?? 502 });
      case "rtu-over-tcp":
        return client.connectTelnet(o.host ?? "", { port: o.port ?? 502 });
      case "rtu":
        return client.connectRTUBuffered(o.path ?? "", serial);
      case "ascii":
        return client.connectAsciiSerial(o.path ?? "", serial);
    }
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Opens a new client. Rejects with a ModbusError naming the target; a connect that neither
 * succeeds nor fails within `connectTimeoutMs` is abandoned (and its socket destroyed).
 */
export function openClient(o: LineOptions, connectTimeoutMs: number): Promise<Client> {
  const target = describeTarget(o);
  const client = new ModbusRTU();
  // modbus-serial re-emits port errors on the client; without a listener they would crash the process.
  client.on("error", () => undefined);
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      discardClient(client);
      reject(new ModbusError("transport", `cannot connect to ${target}: no answer within ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    start(client, o).then(
      () => {
        if (settled) return discardClient(client);
        settled = true;
        clearTimeout(timer);
        resolve(client);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        discardClient(client);
        if (serialMissing(err)) {
          reject(new ModbusError("transport", `serial port support is not installed: ${errorMessage(err).split("\n")[0]} (install the optional dependency: npm install serialport)`));
        } else {
          reject(new ModbusError("transport", `cannot connect to ${target}: ${errorMessage(err)}`));
        }
      }
    );
  });
}

/** Closes a client without caring how: used on drops and failed connects. */
export function discardClient(client: Client): void {
  try {
    emitterOf(client).removeAllListeners("close");
    // destroy() drops sockets at once and cancels modbus-serial's pending transaction timers;
    // serial ports have no destroy, so they are closed as well.
    client.destroy(() => undefined);
    if (client.isOpen) client.close(() => undefined);
  } catch {
    // a half-built port can throw from close/destroy; it holds nothing we could release
  }
}
