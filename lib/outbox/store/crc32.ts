// CRC-32 (IEEE, zlib's) of a byte range. Node ≥ 20.15 / 22.2 computes it natively
// (zlib.crc32); on older Node 18/20 releases a table-driven version does the same.
import zlib from "zlib";

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Int32Array | undefined;

function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/** The table version, exported so that a test checks it against the native one. */
export function crc32Js(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = (table ??= makeTable());
  let c = -1;
  for (let i = start; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function crc32(buf: Buffer, start = 0, end = buf.length): number {
  if (native) return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
  return crc32Js(buf, start, end);
}
