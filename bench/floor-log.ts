// The least gateway node's disk side (bench/floor-nodes.ts) and the least drain of what it wrote
// (bench/floor-drain.ts): one append-only file of records  u32 LE length | u32 LE CRC-32 |
// device (UTF-8) | 0 | the point's JSON  , many per write and fdatasync (group commit).
import fs from "fs";
import path from "path";
import zlib from "zlib";
import { crc32Js } from "../lib/outbox/store/crc32";

type Done = (err?: Error) => void;

const crc32 = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
export const LOG_FILE = "least.log";

export interface LeastLog {
  append(device: string, point: string): void;
  /** `done` is called by the commit that writes what was appended so far. */
  settles(done: Done): void;
  close(): void;
}

function sum(buf: Buffer, start: number, end: number): number {
  return end - start > 512 && crc32 ? crc32(buf.subarray(start, end)) >>> 0 : crc32Js(buf, start, end);
}

/** An append-only file with group commit: records gather in one buffer, one write + fdatasync per commit. */
export function openLeastLog(dir: string): LeastLog {
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, LOG_FILE), "a");
  let buf = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let waiting: Done[] = [];
  let committing = false;
  let closed = false;

  const commit = (): void => {
    if (used === 0 || closed) {
      committing = false;
      return;
    }
    committing = true;
    const out = buf.subarray(0, used);
    const dones = waiting;
    buf = Buffer.allocUnsafe(buf.length);
    used = 0;
    waiting = [];
    fs.write(fd, out, 0, out.length, null, (err) => {
      if (err) return settle(dones, err);
      fs.fdatasync(fd, (e) => settle(dones, e ?? undefined));
    });
  };
  const settle = (dones: Done[], err?: Error | null): void => {
    for (const d of dones) d(err ?? undefined);
    commit(); // what gathered meanwhile: the next group
  };

  return {
    append(device, point) {
      const need = 8 + 3 * (device.length + point.length) + 1;
      if (used + need > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, used + need));
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      const start = used + 8;
      let end = start + buf.write(device, start, "utf8");
      buf[end++] = 0;
      end += buf.write(point, end, "utf8");
      buf.writeUInt32LE(end - start, used);
      buf.writeUInt32LE(sum(buf, start, end), used + 4);
      used = end;
    },
    settles(done) {
      waiting.push(done);
      if (!committing) {
        committing = true;
        setImmediate(commit);
      }
    },
    close() {
      closed = true;
      fs.closeSync(fd);
    },
  };
}

/**
 * Reads the records of `file` back in 4 MB chunks, checks each one's CRC, and hands each point to
 * `point(device, json)`; a torn or corrupt record ends the read (what a real store would skip).
 */
export function readLeastLog(file: string, point: (device: string, json: string) => void): number {
  const fd = fs.openSync(file, "r");
  let buf = Buffer.allocUnsafe(4 << 20);
  let have = 0;
  let pos = 0;
  let n = 0;
  try {
    for (;;) {
      const got = fs.readSync(fd, buf, have, buf.length - have, pos);
      pos += got;
      have += got;
      let at = 0;
      while (at + 8 <= have) {
        const len = buf.readUInt32LE(at);
        const start = at + 8;
        const end = start + len;
        if (end > have) break;
        if (sum(buf, start, end) !== buf.readUInt32LE(at + 4)) return n;
        const zero = buf.indexOf(0, start);
        point(buf.toString("latin1", start, zero), buf.toString("utf8", zero + 1, end));
        n++;
        at = end;
      }
      if (got === 0) return n;
      buf.copy(buf, 0, at, have);
      have -= at;
      if (have === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]);
    }
  } finally {
    fs.closeSync(fd);
  }
}
