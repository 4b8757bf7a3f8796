// A Modbus TCP simulator of a boiler, for the demo and the example flow (dev only). Unit 1:
//   holding 0..1   temperature  float32 ABCD, °C; drifts toward the setpoint while the pump runs
//   holding 2      pressure     int16, hundredths of a bar (map it with scale 0.01)
//   holding 10     setpoint     int16, tenths of °C (scale 0.1), writable
//   input 0..3     firmware     string of 4 registers, "FW 2.1.0"
//   coil 0         pump         bool, writable
//   discrete 0     alarm        bool, on above 90 °C
// Other unit ids get no answer, as a dead device on the line.
//
// Run alone: `npm run modbus-sim` (port from MODBUS_SIM_PORT or the first argument, default 5020).
import * as net from "net";
import { ServerTCP } from "modbus-serial";

/** modbus-serial's ServerTCP takes port 0 for "default 502": a free port is found first. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ModbusSimulatorOptions {
  /** Default 5020; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Unit id of the boiler. Default 1. */
  unitId?: number;
  /** How often the process values move. Default 500 ms. */
  tickMs?: number;
  log?: (line: string) => void;
}

export interface BoilerState {
  temperature: number;
  pressure: number;
  setpoint: number;
  pump: boolean;
  alarm: boolean;
}

export interface ModbusSimulator {
  readonly port: number;
  readonly host: string;
  /** The boiler as the registers say it now. */
  state(): BoilerState;
  stop(): Promise<void>;
}

type Cb<T> = (err: Error | null, v: T) => void;

const FIRMWARE = "FW 2.1.0";

function float32Words(v: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

export async function startModbusSimulator(opts: ModbusSimulatorOptions = {}): Promise<ModbusSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const unit = opts.unitId ?? 1;
  const log = opts.log ?? (() => undefined);
  const s: BoilerState = { temperature: 20, pressure: 1.5, setpoint: 60, pump: true, alarm: false };
  const holding = (addr: number): number => {
    if (addr === 0 || addr === 1) return float32Words(s.temperature)[addr];
    if (addr === 2) return Math.round(s.pressure * 100) & 0xffff;
    if (addr === 10) return Math.round(s.setpoint * 10) & 0xffff;
    return 0;
  };
  const input = (addr: number): number => {
    if (addr >= 0 && addr < 4) return (FIRMWARE.charCodeAt(addr * 2) << 8) | FIRMWARE.charCodeAt(addr * 2 + 1);
    return 0;
  };
  const regs = (read: (a: number) => number) => (addr: number, length: number, u: number, cb: Cb<number[]>): void => {
    if (u !== unit) return; // no answer: a dead device
    const out: number[] = [];
    for (let a = addr; a < addr + length; a++) out.push(read(a));
    cb(null, out);
  };
  const server = new ServerTCP({
    getMultipleHoldingRegisters: regs(holding),
    getMultipleInputRegisters: regs(input),
    getHoldingRegister: (addr: number, u: number, cb: Cb<number>) => regs(holding)(addr, 1, u, (e, v) => cb(e, v[0])),
    getInputRegister: (addr: number, u: number, cb: Cb<number>) => regs(input)(addr, 1, u, (e, v) => cb(e, v[0])),
    getCoil: (addr: number, u: number, cb: Cb<boolean>) => { if (u === unit) cb(null, addr === 0 ? s.pump : false); },
    getDiscreteInput: (addr: number, u: number, cb: Cb<boolean>) => { if (u === unit) cb(null, addr === 0 ? s.alarm : false); },
    setRegister: (addr: number, value: number, u: number) => {
      if (u !== unit) return;
      if (addr === 10) {
        s.setpoint = (value >= 0x8000 ? value - 0x10000 : value) / 10;
        log(`setpoint written: ${s.setpoint} °C`);
      }
    },
    setCoil: (addr: number, value: boolean, u: number) => {
      if (u !== unit) return;
      if (addr === 0) {
        s.pump = value;
        log(`pump switched ${value ? "on" : "off"}`);
      }
    },
  }, { host, port: opts.port === 0 ? await freePort(host) : opts.port ?? 5020, unitID: 255 });
  server.on("socketError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.on("initialized", () => resolve());
    server.on("serverError", (e: Error | null) => reject(e ?? new Error("Modbus simulator failed to start")));
  });
  const address = (server as unknown as { _server: net.Server })._server.address() as net.AddressInfo;

  let t = 0;
  const timer = setInterval(() => {
    t++;
    const target = s.pump ? s.setpoint : 20;
    s.temperature += (target - s.temperature) * 0.05 + Math.sin(t / 7) * 0.05;
    s.pressure = 1.5 + (s.pump ? 0.6 : 0) + Math.sin(t / 11) * 0.05;
    s.alarm = s.temperature > 90;
  }, opts.tickMs ?? 500);

  return {
    port: address.port,
    host,
    state: () => ({ ...s }),
    stop: () => {
      clearInterval(timer);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? process.env.MODBUS_SIM_PORT ?? 5020);
  startModbusSimulator({ port, log: (l) => console.log(`[modbus-sim] ${l}`) }).then(
    (sim) => {
      console.log(`[modbus-sim] boiler (unit 1) on modbus tcp ${sim.host}:${sim.port}`);
      const stop = (): void => { void sim.stop().then(() => process.exit(0)); };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    },
    (err: unknown) => {
      console.error("[modbus-sim]", err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
