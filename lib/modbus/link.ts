// The Modbus protocol on an open byte stream, in two kinds:
//  - TcpLink (Modbus TCP, MBAP): transaction ids make several requests in flight safe. A reply
//    is matched by id and checked against its request; a late reply to a request that timed
//    out is dropped by its id. Anything that shows the stream can no longer be read frame by
//    frame (bad header, unknown id, a reply that is not its request's, a partial frame left at a
//    timeout) ends the link at once: the line reconnects and every later frame is read right.
//  - SerialLink (RTU and ASCII framing, on a serial port or RTU over TCP): no transaction id,
//    so one request at a time, and after any timeout, CRC error or unexpected frame the link
//    recovers as libmodbus does: it discards what arrives until the line has been quiet for
//    `recoveryMs`, and holds the first reply after that until the request's timeout has passed
//    with no further byte, so a reply that came late is never taken for a later request's.
import { EventEmitter } from "events";
import { ModbusError } from "./errors";
import { FrameMismatch, asciiFrame, crc16, decodeReply, encodeRequest, lrc, replyLength, rtuFrame, tcpFrame, type Reply, type Request } from "./frame";

/** A byte stream: a socket or a serial port, already open. */
export interface ByteStream {
  write(b: Buffer): void;
  /** data, and close (with a reason) once. */
  on(event: "data", cb: (b: Buffer) => void): void;
  on(event: "close", cb: (reason: string) => void): void;
  destroy(): void;
}

export interface Link extends EventEmitter {
  /** Requests the link takes at once. */
  readonly capacity: number;
  /** Requests on the wire now. */
  readonly busy: number;
  transact(req: Request, timeoutMs: number): Promise<Reply>;
  /** Ends the link; pending requests fail with kind "disconnected". Emits `drop` (reason) once. */
  destroy(reason: string): void;
}

/** Marks a request that failed only because another request's reply broke the link: safe to send again. */
export function isInnocent(err: unknown): boolean {
  return err instanceof ModbusError && (err as ModbusError & { innocent?: boolean }).innocent === true;
}

/**
 * True for an innocent request that was one of several in flight when a frame nobody can be
 * blamed for broke the link: the requests sent again go one at a time, so the next break names
 * its culprit.
 */
export function isUnattributed(err: unknown): boolean {
  return isInnocent(err) && (err as ModbusError & { unattributed?: boolean }).unattributed === true;
}

function innocent(reason: string, unitId: number, unattributed: boolean): ModbusError {
  return Object.assign(new ModbusError("disconnected", `connection reset: ${reason}`, { unitId }), { innocent: true, unattributed });
}

export function timeoutError(req: Request, timeoutMs: number): ModbusError {
  return Object.assign(new ModbusError("timeout", `no answer within ${timeoutMs} ms`, { unitId: req.unitId }), { errno: "ETIMEDOUT" });
}

interface Pending {
  req: Request;
  held?: boolean;
  resolve(r: Reply): void;
  reject(e: ModbusError): void;
  timer: NodeJS.Timeout | undefined;
}

abstract class BaseLink extends EventEmitter {
  protected ended = false;
  protected buf: Buffer = Buffer.alloc(0);

  constructor(protected readonly stream: ByteStream) {
    super();
    stream.on("data", (b) => { if (!this.ended) this.receive(b); });
    stream.on("close", (reason) => this.destroy(reason || "connection closed by the other end"));
  }

  protected abstract receive(b: Buffer): void;
  protected abstract failAll(err: (unitId: number) => ModbusError): void;

  destroy(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.failAll((unitId) => new ModbusError("disconnected", `connection lost: ${reason}`, { unitId }));
    try { this.stream.destroy(); } catch { /* already gone */ }
    this.emit("drop", reason);
  }
}

export class TcpLink extends BaseLink implements Link {
  private readonly pending = new Map<number, Pending>();
  /** Ids of requests that timed out: their late replies are dropped, not taken as a fault. */
  private readonly stale = new Set<number>();
  private nextTid = Math.floor(Math.random() * 0xffff);

  constructor(stream: ByteStream, readonly capacity: number) {
    super(stream);
  }

  get busy(): number {
    return this.pending.size;
  }

  transact(req: Request, timeoutMs: number): Promise<Reply> {
    if (this.ended) return Promise.reject(new ModbusError("disconnected", "connection lost", { unitId: req.unitId }));
    let pdu: Buffer;
    try { pdu = encodeRequest(req); } catch (err) { return Promise.reject(err); }
    let tid = this.nextTid;
    do tid = (tid + 1) & 0xffff; while (this.pending.has(tid));
    this.nextTid = tid;
    this.stale.delete(tid);
    return new Promise<Reply>((resolve, reject) => {
      const p: Pending = { req, resolve, reject, timer: undefined };
      p.timer = setTimeout(() => this.timedOut(tid, p, timeoutMs), timeoutMs);
      this.pending.set(tid, p);
      this.stream.write(tcpFrame(tid, req.unitId, pdu));
    });
  }

  private timedOut(tid: number, p: Pending, timeoutMs: number): void {
    if (this.pending.get(tid) !== p) return;
    this.pending.delete(tid);
    p.reject(timeoutError(p.req, timeoutMs));
    if (this.buf.length > 0) {
      // a frame began and never ended: where the next one starts is unknown
      this.fault(`a frame of ${this.buf.length} bytes did not complete within ${timeoutMs} ms`);
      return;
    }
    this.stale.add(tid);
    if (this.stale.size > 256) this.stale.delete(this.stale.values().next().value as number);
  }

  /** The stream cannot be trusted any more: fail what is in flight (innocently) and end. */
  private fault(reason: string, culprit?: number, err?: ModbusError): void {
    // one request on the wire: the frame that broke the stream was its reply
    if (culprit === undefined && this.pending.size === 1) culprit = this.pending.keys().next().value as number;
    const unattributed = culprit === undefined && this.pending.size > 1;
    if (culprit !== undefined) {
      const p = this.pending.get(culprit);
      if (p) {
        this.pending.delete(culprit);
        clearTimeout(p.timer);
        p.reject(err ?? new FrameMismatch(reason, p.req.unitId));
      }
    }
    this.failAll((unitId) => innocent(reason, unitId, unattributed));
    this.destroy(`out of step: ${reason}`);
  }

  protected failAll(err: (unitId: number) => ModbusError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err(p.req.unitId));
    }
    this.pending.clear();
  }

  protected receive(b: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : b;
    while (!this.ended && this.buf.length >= 7) {
      const tid = this.buf.readUInt16BE(0);
      const proto = this.buf.readUInt16BE(2);
      const len = this.buf.readUInt16BE(4);
      if (proto !== 0) return this.fault(`protocol id ${proto} in a reply header (Modbus is 0)`);
      // unit id + at least 2 PDU bytes (an exception), at most 1 + 253
      if (len < 3 || len > 254) return this.fault(`reply header length ${len} (1 + PDU of 2..253 bytes)`);
      if (this.buf.length < 6 + len) return;
      const unitId = this.buf[6];
      const pdu = this.buf.subarray(7, 6 + len);
      this.buf = this.buf.subarray(6 + len);
      const p = this.pending.get(tid);
      if (!p) {
        if (this.stale.delete(tid)) continue; // the late reply of a request that timed out
        return this.fault(`reply with transaction id ${tid}, which no request in flight has`);
      }
      let reply: Reply;
      try {
        reply = decodeReply(p.req, unitId, pdu);
      } catch (err) {
        if (err instanceof ModbusError && err.kind === "exception") {
          this.pending.delete(tid);
          clearTimeout(p.timer);
          p.reject(err);
          continue;
        }
        return this.fault((err as Error).message, tid, err as ModbusError);
      }
      if (this.buf.length > 0 && this.pending.size === 1 && !(this.buf.length >= 2 && this.stale.has(this.buf.readUInt16BE(0)))) {
        // more bytes came with the only reply awaited: they belong to no request
        return this.fault(`${this.buf.length} bytes after the reply of unit ${unitId}, which no request asked for`, tid);
      }
      this.pending.delete(tid);
      clearTimeout(p.timer);
      p.resolve(reply);
    }
    if (!this.ended && this.buf.length > 0 && this.pending.size === 0 && this.stale.size === 0) {
      this.fault(`${this.buf.length} bytes that no request asked for`);
    }
  }
}

/** RTU or ASCII framing: one request at a time, with link recovery after any error. */
export class SerialLink extends BaseLink implements Link {
  readonly capacity = 1;
  private pending: (Pending & { sentAt: number; timeoutMs: number }) | undefined;
  /** After bytes that were no reply (garbage, a CRC error, a stray frame): input is discarded until quiet. */
  private recovering = false;
  /**
   * The unit whose reply may still come late (-1: any unit). Its next request waits until the
   * line is quiet, and that reply is held until its own timeout has passed with no further
   * byte. Other units need neither: a late frame names its unit and cannot pass as theirs.
   */
  private suspect: number | undefined;
  private held: NodeJS.Timeout | undefined;
  private lastByteAt = 0;
  private errorAt = 0;
  private waiter: NodeJS.Timeout | undefined;
  private readonly ready: Array<{ unitId: number; go(): void }> = [];

  constructor(stream: ByteStream, private readonly framing: "rtu" | "ascii", private readonly recoveryMs: number) {
    super(stream);
  }

  get busy(): number {
    return this.pending ? 1 : 0;
  }

  async transact(req: Request, timeoutMs: number): Promise<Reply> {
    const pdu = encodeRequest(req);
    if (this.pending) throw new ModbusError("transport", "a serial line takes one request at a time", { unitId: req.unitId });
    await this.quiet(req.unitId);
    if (this.ended) throw new ModbusError("disconnected", "connection lost", { unitId: req.unitId });
    return new Promise<Reply>((resolve, reject) => {
      const held = this.suspect === -1 || this.suspect === req.unitId;
      const p = { req, resolve, reject, timer: undefined as NodeJS.Timeout | undefined, sentAt: Date.now(), timeoutMs, held };
      p.timer = setTimeout(() => {
        if (this.pending !== p) return;
        // nothing at all came: the line is in step, but this unit's reply may still come late
        const silent = this.buf.length === 0;
        this.fail(timeoutError(req, timeoutMs), silent ? "late" : "flush");
      }, timeoutMs);
      this.pending = p;
      this.buf = Buffer.alloc(0);
      this.stream.write(this.framing === "rtu" ? rtuFrame(req.unitId, pdu) : asciiFrame(req.unitId, pdu));
    });
  }

  private mustWait(unitId: number): boolean {
    return this.recovering || this.suspect === -1 || this.suspect === unitId;
  }

  /** Resolves once a request for `unitId` may go out (at once when nothing is suspect). */
  private quiet(unitId: number): Promise<void> {
    if (!this.mustWait(unitId) || this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.ready.push({ unitId, go: resolve });
      this.checkQuiet();
    });
  }

  private checkQuiet(): void {
    clearTimeout(this.waiter);
    this.waiter = undefined;
    if (!this.ready.length) return;
    const wait = Math.max(this.lastByteAt, this.errorAt) + this.recoveryMs - Date.now();
    if (wait > 0 && !this.ended) {
      this.waiter = setTimeout(() => this.checkQuiet(), wait);
      return;
    }
    this.recovering = false;
    this.buf = Buffer.alloc(0);
    for (const r of this.ready.splice(0)) r.go();
  }

  /** Ends the request in flight with `err`; "flush" discards input until quiet, "late" marks its unit. */
  private fail(err: ModbusError, how: "flush" | "late"): void {
    const p = this.pending;
    this.pending = undefined;
    clearTimeout(this.held);
    this.held = undefined;
    if (p) { clearTimeout(p.timer); p.reject(err); }
    this.errorAt = Date.now();
    this.buf = Buffer.alloc(0);
    if (how === "flush") this.recovering = true;
    this.suspect = p && (this.suspect === undefined || this.suspect === p.req.unitId) ? p.req.unitId : -1;
    if (this.ready.length) this.checkQuiet();
  }

  protected failAll(err: (unitId: number) => ModbusError): void {
    clearTimeout(this.waiter);
    clearTimeout(this.held);
    const p = this.pending;
    this.pending = undefined;
    if (p) { clearTimeout(p.timer); p.reject(err(p.req.unitId)); }
    for (const r of this.ready.splice(0)) r.go();
  }

  protected receive(b: Buffer): void {
    this.lastByteAt = Date.now();
    if (this.recovering) {
      if (this.ready.length) this.checkQuiet();
      return; // flushed
    }
    const p = this.pending;
    if (!p) {
      // nobody asked: a late or stray frame; whatever follows it is suspect
      this.fail(new ModbusError("transport", "stray bytes"), "flush");
      this.suspect = -1;
      return;
    }
    if (this.held) {
      this.fail(new FrameMismatch(`more bytes after the reply of unit ${p.req.unitId}: the line was out of step, reply dropped`, p.req.unitId), "flush");
      return;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : b;
    const frame = this.framing === "rtu" ? this.rtu(p.req) : this.ascii(p.req);
    if (frame === undefined) return; // not complete yet
    if (frame instanceof ModbusError) return this.fail(frame, "flush");
    let outcome: () => void;
    try {
      const reply = decodeReply(p.req, frame.unitId, frame.pdu);
      outcome = () => p.resolve(reply);
    } catch (err) {
      const e = err as ModbusError;
      if (e.kind !== "exception") return this.fail(e, "flush");
      outcome = () => p.reject(e);
    }
    clearTimeout(p.timer);
    if (!p.held) {
      this.pending = undefined;
      outcome();
      return;
    }
    // keep the line until the request's timeout has passed: a byte before then voids the reply
    this.held = setTimeout(() => {
      if (this.pending !== p) return;
      this.held = undefined;
      this.pending = undefined;
      this.suspect = undefined;
      outcome();
    }, Math.max(0, p.sentAt + p.timeoutMs - Date.now()));
  }

  /** A complete RTU frame for `req`, an error if what came cannot be its reply, or undefined to wait. */
  private rtu(req: Request): { unitId: number; pdu: Buffer } | ModbusError | undefined {
    const b = this.buf;
    if (b[0] !== req.unitId) return new FrameMismatch(`frame from unit ${b[0]} while unit ${req.unitId} was asked`, req.unitId);
    if (b.length < 2) return undefined;
    let total: number;
    if (b[1] === (req.fc | 0x80)) total = 5;
    else if (b[1] === req.fc) {
      total = 1 + replyLength(req) + 2;
      if (req.fc <= 4 && b.length >= 3 && b[2] !== replyLength(req) - 2) {
        return new FrameMismatch(`reply byte count ${b[2]}, expected ${replyLength(req) - 2} (unit ${req.unitId} FC${req.fc} at ${req.address})`, req.unitId);
      }
    } else return new FrameMismatch(`reply with function code ${b[1]} to FC${req.fc} (unit ${req.unitId})`, req.unitId);
    if (b.length < total) return undefined;
    if (b.length > total) return new FrameMismatch(`${b.length - total} bytes more than a reply (unit ${req.unitId} FC${req.fc})`, req.unitId);
    if (b.readUInt16LE(total - 2) !== crc16(b, total - 2)) return new FrameMismatch(`CRC error in the reply of unit ${req.unitId}`, req.unitId);
    return { unitId: b[0], pdu: b.subarray(1, total - 2) };
  }

  private ascii(req: Request): { unitId: number; pdu: Buffer } | ModbusError | undefined {
    const s = this.buf.toString("latin1");
    if (s[0] !== ":") return new FrameMismatch("ASCII frame does not start with ':'", req.unitId);
    const end = s.indexOf("\r\n");
    if (end < 0) return s.length > 513 ? new FrameMismatch("ASCII frame longer than 513 characters", req.unitId) : undefined;
    if (end + 2 !== s.length) return new FrameMismatch("bytes after the end of an ASCII frame", req.unitId);
    const hex = s.slice(1, end);
    if (!/^([0-9A-Fa-f]{2}){3,}$/.test(hex)) return new FrameMismatch("ASCII frame is not hex", req.unitId);
    const bytes = Buffer.from(hex, "hex");
    const body = bytes.subarray(0, bytes.length - 1);
    if (lrc(body) !== bytes[bytes.length - 1]) return new FrameMismatch(`LRC error in the reply of unit ${req.unitId}`, req.unitId);
    return { unitId: body[0], pdu: body.subarray(1) };
  }
}
