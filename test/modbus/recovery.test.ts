// Link recovery (issue 9, item 1): a reply that comes after its timeout must never be taken for
// a later request's. Over RTU on a socat pty pair and RTU over TCP, against a single-threaded
// device that answers one request 500 ms late (timeout 200 ms).
import * as net from "net";
import should from "should";
import { ModbusLine } from "../../lib/modbus/line";
import type { LineOptions } from "../../lib/modbus/types";
import { requirePeer } from "../support/peers";
import { RtuDevice, rtu, valueAt } from "./hostile";
import { PtyPair, socatAvailable } from "./servers";

interface SerialPortLike {
  open(cb: (e: Error | null) => void): void;
  close(cb: () => void): void;
  write(b: Buffer): boolean;
  on(ev: "data", cb: (b: Buffer) => void): void;
  readonly isOpen: boolean;
}

/** The same reply as unit `unitId` would send it (new CRC). */
function rtuOf(unitId: number, frame: Buffer): Buffer {
  return rtu(unitId, frame.subarray(1, -2));
}

/** Reads `addresses` one register at a time; every outcome is a value or an error. */
async function readEach(line: ModbusLine, unitId: number, addresses: number[]): Promise<Array<number | Error>> {
  const out: Array<number | Error> = [];
  for (const a of addresses) out.push(await line.readRegisters(unitId, "holding", a, 1).then((v) => v[0], (e: Error) => e));
  return out;
}

function checkNoWrongValue(out: Array<number | Error>, unitId: number, addresses: number[]): void {
  const wrong = out.map((v, i) => (typeof v === "number" && v !== valueAt(unitId, addresses[i]) ? `address ${addresses[i]}: ${v}` : "")).filter(Boolean);
  should(wrong).eql([], `wrong values: ${wrong.join(", ")}`);
}

for (const transport of ["rtu", "rtu-over-tcp"] as const) {
  describe(`modbus link recovery over ${transport} after a late reply`, function () {
    this.timeout(30000);
    let pty: PtyPair | undefined;
    let port: SerialPortLike | undefined;
    let server: net.Server | undefined;
    let sockets: net.Socket[] = [];
    let device: RtuDevice | undefined;
    let line: ModbusLine | undefined;

    before(function () {
      if (transport === "rtu") requirePeer("socat", socatAvailable(), this);
    });

    /** Starts the device (its n-th request takes delayFor(n) ms) and returns the line's options. */
    async function start(delayFor: (n: number) => number, mangle?: RtuDevice["mangle"]): Promise<LineOptions> {
      const make = (io: ConstructorParameters<typeof RtuDevice>[0]): RtuDevice => {
        const d = new RtuDevice(io, [1, 2], (n) => delayFor(n));
        if (mangle) d.mangle = mangle;
        return d;
      };
      if (transport === "rtu") {
        pty = await PtyPair.start();
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { SerialPort } = require("serialport") as { SerialPort: new (o: object) => SerialPortLike };
        const p = new SerialPort({ path: pty.b, baudRate: 9600, autoOpen: false });
        await new Promise<void>((resolve, reject) => p.open((e) => (e ? reject(e) : resolve())));
        port = p;
        device = make(p);
        return { transport, path: pty.a, timeoutMs: 200 };
      }
      server = net.createServer((s) => {
        sockets.push(s);
        s.on("error", () => undefined);
        device = make(s);
      });
      await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
      return { transport, host: "127.0.0.1", port: (server.address() as net.AddressInfo).port, timeoutMs: 200 };
    }

    afterEach(async () => {
      await line?.close();
      line = undefined;
      device?.stop();
      device = undefined;
      for (const s of sockets) s.destroy();
      sockets = [];
      if (server) await new Promise<void>((r) => server?.close(() => r()));
      server = undefined;
      if (port?.isOpen) await new Promise<void>((r) => port?.close(() => r()));
      port = undefined;
      await pty?.stop();
      pty = undefined;
    });

    it("reads every later single-register value right after one reply comes 500 ms late (timeout 200 ms, one retry)", async () => {
      line = new ModbusLine({ ...(await start((n) => (n === 0 ? 500 : 0))), retries: 1 });
      const addresses = [0, 1, 2, 3, 4, 5, 6, 7, 8];
      const out = await readEach(line, 1, addresses);
      checkNoWrongValue(out, 1, addresses);
      // the line is back in step: the last reads all succeed
      should(out.slice(-5)).eql(addresses.slice(-5).map((a) => valueAt(1, a)));
    });

    it("reads every value right with no retry, and with the late reply of one unit arriving during another unit's request", async () => {
      line = new ModbusLine({ ...(await start((n) => (n === 0 ? 500 : 0))), retries: 0 });
      const first = await line.readRegisters(1, "holding", 0, 1).catch((e: Error) => e);
      should(first).be.instanceOf(Error);
      const out: Array<[number, number | Error]> = [];
      for (const [u, a] of [[2, 10], [1, 1], [2, 11], [1, 2], [1, 3], [2, 12], [1, 4], [1, 5]]) {
        out.push([u, await line.readRegisters(u, "holding", a, 1).then((v) => v[0], (e: Error) => e)]);
      }
      const wrong = out.filter(([u, v], i) => typeof v === "number" && v !== valueAt(u, [10, 1, 11, 2, 3, 12, 4, 5][i]));
      should(wrong).eql([]);
      should(out.slice(-3).map(([, v]) => v)).eql([valueAt(2, 12), valueAt(1, 4), valueAt(1, 5)]);
    });

    const broken: Array<[string, (reply: Buffer) => Buffer]> = [
      ["a CRC error", (b) => Buffer.concat([b.subarray(0, -1), Buffer.from([b[b.length - 1] ^ 0xff])])],
      ["a frame from another unit", (b) => rtuOf(2, b)],
      ["garbage before the reply", (b) => Buffer.concat([Buffer.from([0x01, 0x03, 0x7f, 0x55]), b])],
      ["the reply twice", (b) => Buffer.concat([b, b])],
      ["half a reply", (b) => b.subarray(0, 4)],
    ];
    for (const [what, mangle] of broken) {
      it(`reads every later value right after ${what}`, async () => {
        // no late reply here: a longer timeout keeps a busy machine from failing a good read
        line = new ModbusLine({ ...(await start(() => 0, (n, b) => (n === 0 ? mangle(b) : b))), timeoutMs: 500, recoveryMs: 200, retries: 0 });
        const addresses = [0, 1, 2, 3, 4, 5];
        const out = await readEach(line, 1, addresses);
        should(out[0]).be.instanceOf(Error);
        checkNoWrongValue(out, 1, addresses);
        should(out.slice(-4)).eql(addresses.slice(-4).map((a) => valueAt(1, a)));
      });
    }

    it("reads right again after every third reply is late, over 12 reads", async () => {
      line = new ModbusLine({ ...(await start((n) => (n % 3 === 0 ? 350 : 0))), retries: 1 });
      const addresses = Array.from({ length: 12 }, (_, i) => 100 + i);
      const out = await readEach(line, 1, addresses);
      checkNoWrongValue(out, 1, addresses);
      should(out.filter((v) => typeof v === "number").length).be.above(3);
    });
  });
}
