// RTU or ASCII framing on a serial port, or RTU over TCP. No transaction id, so one request at
// a time, and after any timeout, CRC error or unexpected frame the link recovers as libmodbus
// does: it discards what arrives until the line has been quiet for `recoveryMs`. A unit whose
// reply may still come late has its next request wait for quiet too, and that reply is held
// until its request's timeout has passed with no further byte, so a late reply is never taken
// for a later request's. Other units need neither: a late frame names its unit.
import { ModbusError } from "./errors";
import { FrameMismatch, asciiFrame, crc16, decodeReply, encodeRequest, lrc, replyLength, rtuFrame, type Reply, type Request } from "./frame";
import { BaseLink, timeoutError, type ByteStream, type Link, type Pending } from "./link";

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
