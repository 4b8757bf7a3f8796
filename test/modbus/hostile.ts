// Hand-written Modbus devices for the link-recovery tests: a Modbus TCP server whose units
// answer right, late, or with garbage of a chosen kind, and an RTU device on any byte stream
// (a socat pty, or a TCP socket for RTU over TCP) that answers one request after another, as a
// single-threaded device does, with a chosen delay per request.
import * as net from "net";
import { crc16 } from "../../lib/modbus/frame";

/** What unit `u` holds at `address`: distinct per unit and address, so a misplaced reply shows. */
export function valueAt(unitId: number, address: number): number {
  return (unitId * 1000 + address) & 0xffff;
}

export interface TcpRequest {
  tid: number;
  unitId: number;
  fc: number;
  address: number;
  count: number;
}

/** A correct reply PDU (function code onwards) for a read of holding/input registers or bits. */
export function replyPdu(r: TcpRequest): Buffer {
  if (r.fc === 3 || r.fc === 4) {
    const b = Buffer.alloc(2 + 2 * r.count);
    b[0] = r.fc; b[1] = 2 * r.count;
    for (let i = 0; i < r.count; i++) b.writeUInt16BE(valueAt(r.unitId, r.address + i), 2 + 2 * i);
    return b;
  }
  if (r.fc === 1 || r.fc === 2) {
    const n = Math.ceil(r.count / 8);
    const b = Buffer.alloc(2 + n);
    b[0] = r.fc; b[1] = n;
    for (let i = 0; i < r.count; i++) if (valueAt(r.unitId, r.address + i) & 1) b[2 + (i >> 3)] |= 1 << (i & 7);
    return b;
  }
  return Buffer.from([r.fc | 0x80, 1]);
}

export function mbap(tid: number, unitId: number, pdu: Buffer, length = pdu.length + 1, proto = 0): Buffer {
  const h = Buffer.alloc(7);
  h.writeUInt16BE(tid, 0); h.writeUInt16BE(proto, 2); h.writeUInt16BE(length, 4); h[6] = unitId;
  return Buffer.concat([h, pdu]);
}

/** How a unit answers: the bytes to write (in pieces, each after its delay), or nothing. */
export type Answer = Array<{ afterMs: number; bytes: Buffer }>;
export type Behaviour = (r: TcpRequest) => Answer;

export const correct: Behaviour = (r) => [{ afterMs: 0, bytes: mbap(r.tid, r.unitId, replyPdu(r)) }];

/** A Modbus TCP server on 127.0.0.1; units without a behaviour answer correctly. */
export class HostileTcpServer {
  readonly served = new Map<number, number>();
  connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: net.Server, readonly port: number, readonly units: Map<number, Behaviour>) {}

  static async start(units: Record<number, Behaviour> = {}, port = 0): Promise<HostileTcpServer> {
    const map = new Map(Object.entries(units).map(([k, v]) => [Number(k), v]));
    let self: HostileTcpServer | undefined;
    const server = net.createServer((sock) => self?.serve(sock));
    await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(port, "127.0.0.1", () => resolve()); });
    self = new HostileTcpServer(server, (server.address() as net.AddressInfo).port, map);
    return self;
  }

  private serve(sock: net.Socket): void {
    this.connections++;
    this.sockets.add(sock);
    sock.on("error", () => undefined);
    sock.on("close", () => this.sockets.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 12) {
        const len = buf.readUInt16BE(4);
        if (buf.length < 6 + len) return;
        const r: TcpRequest = { tid: buf.readUInt16BE(0), unitId: buf[6], fc: buf[7], address: buf.readUInt16BE(8), count: buf.readUInt16BE(10) };
        buf = buf.subarray(6 + len);
        this.served.set(r.unitId, (this.served.get(r.unitId) ?? 0) + 1);
        for (const piece of (this.units.get(r.unitId) ?? correct)(r)) {
          const t = setTimeout(() => { this.timers.delete(t); if (!sock.destroyed) sock.write(piece.bytes); }, piece.afterMs);
          this.timers.add(t);
        }
      }
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An RTU frame (unit, PDU, CRC). */
export function rtu(unitId: number, pdu: Buffer): Buffer {
  const b = Buffer.concat([Buffer.from([unitId]), pdu, Buffer.alloc(2)]);
  b.writeUInt16LE(crc16(b, b.length - 2), b.length - 2);
  return b;
}

export interface ByteSink {
  write(b: Buffer): unknown;
  on(event: "data", cb: (b: Buffer) => void): unknown;
}

/**
 * A single-threaded RTU device on `io`: FC3 reads of registers valueAt(unit, address), one
 * request after the other; `delayFor` says how long it works on each (the n-th request, 0-based).
 */
export class RtuDevice {
  readonly requests: TcpRequest[] = [];
  private buf = Buffer.alloc(0);
  private busy = false;
  private readonly queue: TcpRequest[] = [];
  private timer: NodeJS.Timeout | undefined;
  stopped = false;

  /** What the device sends for its n-th reply (default: the reply as it is). */
  mangle: (n: number, reply: Buffer) => Buffer = (_n, reply) => reply;

  constructor(private readonly io: ByteSink, readonly units: number[], private readonly delayFor: (n: number, r: TcpRequest) => number) {
    io.on("data", (d) => this.receive(d));
  }

  private receive(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const f = this.buf.subarray(0, 8);
      if (f.readUInt16LE(6) !== crc16(f, 6)) { this.buf = this.buf.subarray(1); continue; }
      this.buf = this.buf.subarray(8);
      const r: TcpRequest = { tid: 0, unitId: f[0], fc: f[1], address: f.readUInt16BE(2), count: f.readUInt16BE(4) };
      if (!this.units.includes(r.unitId)) continue;
      this.queue.push(r);
    }
    this.next();
  }

  private next(): void {
    if (this.busy || this.stopped) return;
    const r = this.queue.shift();
    if (!r) return;
    this.busy = true;
    const n = this.requests.length;
    this.requests.push(r);
    this.timer = setTimeout(() => {
      this.busy = false;
      if (this.stopped) return;
      this.io.write(this.mangle(n, rtu(r.unitId, replyPdu(r))));
      this.next();
    }, this.delayFor(n, r));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
