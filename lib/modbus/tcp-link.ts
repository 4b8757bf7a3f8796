// Modbus TCP (MBAP) on a socket: transaction ids make several requests in flight safe. A
// reply is matched by id and checked against its request; a late reply to a request that timed
// out is dropped by its id. Anything that shows the stream can no longer be read frame by frame
// (a bad header, an unknown id, a reply that is not its request's, bytes nobody asked for, a
// partial frame left at a timeout) ends the link at once: the line reconnects, and every later
// frame is read right.
import { ModbusError } from "./errors";
import { FrameMismatch, decodeReply, encodeRequest, tcpFrame, type Reply, type Request } from "./frame";
import { BaseLink, innocent, timeoutError, type ByteStream, type Link, type Pending } from "./link";

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
      this.fault(`a frame of ${this.buf.length} bytes did not complete within ${timeoutMs} ms`, null);
      return;
    }
    this.stale.add(tid);
    if (this.stale.size > 256) this.stale.delete(this.stale.values().next().value as number);
  }

  /**
   * The stream cannot be trusted any more: the culprit's request fails with `err`, the others in
   * flight fail innocently (to be sent again), and the link ends. `culprit` null: already blamed.
   */
  private fault(reason: string, culprit?: number | null, err?: ModbusError): void {
    // one request on the wire: the frame that broke the stream was its reply
    if (culprit === undefined && this.pending.size === 1) culprit = this.pending.keys().next().value as number;
    const unattributed = culprit === undefined && this.pending.size > 1;
    if (culprit !== undefined && culprit !== null) {
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

