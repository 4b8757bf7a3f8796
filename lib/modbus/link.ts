// A Link speaks the Modbus protocol on an open byte stream (a socket or a serial port), in
// one of two kinds: TcpLink (tcp-link.ts: Modbus TCP, transaction ids, several requests in
// flight) and SerialLink (serial-link.ts: RTU or ASCII framing, one request at a time, link
// recovery). Here: what both share.
import { EventEmitter } from "events";
import { ModbusError } from "./errors";
import type { Reply, Request } from "./frame";

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

export function innocent(reason: string, unitId: number, unattributed: boolean): ModbusError {
  return Object.assign(new ModbusError("disconnected", `connection reset: ${reason}`, { unitId }), { innocent: true, unattributed });
}

export function timeoutError(req: Request, timeoutMs: number): ModbusError {
  return Object.assign(new ModbusError("timeout", `no answer within ${timeoutMs} ms`, { unitId: req.unitId }), { errno: "ETIMEDOUT" });
}

export interface Pending {
  req: Request;
  held?: boolean;
  resolve(r: Reply): void;
  reject(e: ModbusError): void;
  timer: NodeJS.Timeout | undefined;
}

export abstract class BaseLink extends EventEmitter {
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

