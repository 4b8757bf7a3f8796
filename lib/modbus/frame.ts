// Modbus PDUs and ADUs, built and checked here so that no reply is ever taken for what it is
// not: every reply is checked against its request (unit, function code, byte count = what was
// asked, echoed address and quantity for writes) before a value is decoded. Pure functions.
import { ModbusError, exceptionName } from "./errors";

/** Protocol limits (Modbus Application Protocol v1.1b3, 6.1 .. 6.12). */
export const LIMITS = { readBits: 2000, readRegisters: 125, writeCoils: 1968, writeRegisters: 123 } as const;

export type FunctionCode = 1 | 2 | 3 | 4 | 5 | 6 | 15 | 16;

export interface Request {
  unitId: number;
  fc: FunctionCode;
  address: number;
  /** Bits or registers read/written (1 for FC5/FC6). */
  count: number;
  /** FC5/FC15: booleans; FC6/FC16: register words. */
  values?: ReadonlyArray<boolean | number>;
}

/** What a checked reply carries: read data, or nothing for a write. */
export type Reply = { data: number[] | boolean[] };

/** Why a received frame is not the reply to the request. `kind` "transport", reason in message. */
export class FrameMismatch extends ModbusError {
  constructor(message: string, unitId?: number) {
    super("transport", message, { unitId });
    this.name = "FrameMismatch";
  }
}

/** Modbus RTU CRC-16 (poly 0xA001, init 0xFFFF), sent low byte first. */
export function crc16(buf: Uint8Array, end = buf.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= buf[i];
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Modbus ASCII LRC: two's complement of the byte sum. */
export function lrc(buf: Uint8Array): number {
  let sum = 0;
  for (const b of buf) sum = (sum + b) & 0xff;
  return (-sum) & 0xff;
}

function checkRequest(r: Request): void {
  const fail = (m: string): never => { throw new ModbusError("range", `unit ${r.unitId} FC${r.fc}: ${m}`, { unitId: r.unitId }); };
  if (!(Number.isInteger(r.address) && r.address >= 0 && r.address <= 0xffff)) fail(`address must be 0..65535, got ${r.address}`);
  const max = r.fc <= 2 ? LIMITS.readBits : r.fc <= 4 ? LIMITS.readRegisters : r.fc === 15 ? LIMITS.writeCoils : r.fc === 16 ? LIMITS.writeRegisters : 1;
  if (!(Number.isInteger(r.count) && r.count >= 1 && r.count <= max)) fail(`${r.count} ${r.fc <= 2 || r.fc === 5 || r.fc === 15 ? "bits" : "registers"} in one request; the protocol allows 1..${max}`);
  if (r.address + r.count - 1 > 0xffff) fail("request spans past address 65535");
  if (r.fc >= 5 && (r.values?.length ?? 0) !== r.count) fail(`${r.values?.length ?? 0} values for ${r.count}`);
}

/** The request PDU (function code and data, no unit id). Throws on what the protocol forbids. */
export function encodeRequest(r: Request): Buffer {
  checkRequest(r);
  switch (r.fc) {
    case 1: case 2: case 3: case 4: {
      const b = Buffer.alloc(5);
      b.writeUInt8(r.fc, 0); b.writeUInt16BE(r.address, 1); b.writeUInt16BE(r.count, 3);
      return b;
    }
    case 5: {
      const b = Buffer.alloc(5);
      b.writeUInt8(5, 0); b.writeUInt16BE(r.address, 1); b.writeUInt16BE(r.values?.[0] ? 0xff00 : 0, 3);
      return b;
    }
    case 6: {
      const b = Buffer.alloc(5);
      b.writeUInt8(6, 0); b.writeUInt16BE(r.address, 1); b.writeUInt16BE(Number(r.values?.[0]) & 0xffff, 3);
      return b;
    }
    case 15: {
      const n = Math.ceil(r.count / 8);
      const b = Buffer.alloc(6 + n);
      b.writeUInt8(15, 0); b.writeUInt16BE(r.address, 1); b.writeUInt16BE(r.count, 3); b.writeUInt8(n, 5);
      (r.values ?? []).forEach((v, i) => { if (v) b[6 + (i >> 3)] |= 1 << (i & 7); });
      return b;
    }
    case 16: {
      const b = Buffer.alloc(6 + 2 * r.count);
      b.writeUInt8(16, 0); b.writeUInt16BE(r.address, 1); b.writeUInt16BE(r.count, 3); b.writeUInt8(2 * r.count, 5);
      (r.values ?? []).forEach((v, i) => b.writeUInt16BE(Number(v) & 0xffff, 6 + 2 * i));
      return b;
    }
  }
}

/** Length of the normal reply PDU to `r` (function code included). */
export function replyLength(r: Request): number {
  if (r.fc <= 2) return 2 + Math.ceil(r.count / 8);
  if (r.fc <= 4) return 2 + 2 * r.count;
  return 5;
}

/**
 * Checks a reply PDU against its request and decodes it. Throws a ModbusError of kind
 * "exception" for an exception reply, a FrameMismatch for anything that is not this request's
 * reply (other function code, other byte count, other echoed address or quantity).
 */
export function decodeReply(r: Request, unitId: number, pdu: Uint8Array): Reply {
  const where = `unit ${r.unitId} FC${r.fc} at ${r.address}`;
  if (unitId !== r.unitId) throw new FrameMismatch(`reply from unit ${unitId} to a request for unit ${r.unitId} (${where})`, r.unitId);
  if (pdu.length === 0) throw new FrameMismatch(`empty reply (${where})`, r.unitId);
  const fc = pdu[0];
  if (fc === (r.fc | 0x80)) {
    if (pdu.length !== 2) throw new FrameMismatch(`exception reply of ${pdu.length} bytes, expected 2 (${where})`, r.unitId);
    throw new ModbusError("exception", exceptionName(pdu[1]), { modbusCode: pdu[1], unitId: r.unitId });
  }
  if (fc !== r.fc) throw new FrameMismatch(`reply with function code ${fc} to FC${r.fc} (${where})`, r.unitId);
  const want = replyLength(r);
  if (r.fc <= 4) {
    const bytes = want - 2;
    if (pdu.length < 2 || pdu[1] !== bytes) throw new FrameMismatch(`reply byte count ${pdu.length < 2 ? "missing" : pdu[1]}, expected ${bytes} for ${r.count} ${r.fc <= 2 ? "bits" : "registers"} (${where})`, r.unitId);
    if (pdu.length !== want) throw new FrameMismatch(`reply of ${pdu.length} bytes, expected ${want} (${where})`, r.unitId);
    if (r.fc <= 2) {
      const out: boolean[] = [];
      for (let i = 0; i < r.count; i++) out.push(((pdu[2 + (i >> 3)] >> (i & 7)) & 1) === 1);
      return { data: out };
    }
    const out: number[] = [];
    for (let i = 0; i < r.count; i++) out.push((pdu[2 + 2 * i] << 8) | pdu[3 + 2 * i]);
    return { data: out };
  }
  if (pdu.length !== want) throw new FrameMismatch(`reply of ${pdu.length} bytes, expected ${want} (${where})`, r.unitId);
  const echo = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.length);
  const sent = encodeRequest(r);
  if (echo.readUInt16BE(1) !== r.address || echo.readUInt16BE(3) !== sent.readUInt16BE(3)) {
    throw new FrameMismatch(`write reply echoes address ${echo.readUInt16BE(1)} / ${echo.readUInt16BE(3)}, sent ${r.address} / ${sent.readUInt16BE(3)} (${where})`, r.unitId);
  }
  return { data: [] };
}

/** RTU ADU: unit, PDU, CRC (low byte first). */
export function rtuFrame(unitId: number, pdu: Buffer): Buffer {
  const b = Buffer.alloc(pdu.length + 3);
  b[0] = unitId;
  pdu.copy(b, 1);
  b.writeUInt16LE(crc16(b, pdu.length + 1), pdu.length + 1);
  return b;
}

/** Modbus TCP ADU: MBAP header (transaction id, protocol 0, length, unit) and PDU. */
export function tcpFrame(tid: number, unitId: number, pdu: Buffer): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0); b.writeUInt16BE(0, 2); b.writeUInt16BE(pdu.length + 1, 4); b[6] = unitId;
  pdu.copy(b, 7);
  return b;
}

/** ASCII ADU: ':' hex(unit, PDU, LRC) CR LF. */
export function asciiFrame(unitId: number, pdu: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([unitId]), pdu]);
  const all = Buffer.concat([body, Buffer.from([lrc(body)])]);
  return Buffer.from(`:${all.toString("hex").toUpperCase()}\r\n`, "latin1");
}
