// One file of the segment log: `<10-digit number>.seg`, appended only, never rewritten. Whole
// files are deleted once nothing in them is waiting any more.
import fs from "fs";
import path from "path";
import { MAGIC } from "./record";

const NAME = /^(\d{10})\.seg$/;

export function segmentPath(dir: string, id: number): string {
  return path.join(dir, `${String(id).padStart(10, "0")}.seg`);
}

/** The segment numbers in `dir`, oldest first. */
export function listSegments(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((f) => NAME.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export class Segment {
  /** Bytes the log has assigned to this file (what is written plus what is waiting to be). */
  size: number;
  /** Bytes known written (the commit after which reading them is safe). */
  written: number;
  /** Data records in it, and how many of them need no delivery any more. */
  count = 0;
  done = 0;
  fd: number | undefined = undefined;
  /** Its file was deleted (nothing in it waited any more). */
  deleted = false;

  constructor(readonly dir: string, readonly id: number, size: number) {
    this.size = size;
    this.written = size;
  }

  get path(): string {
    return segmentPath(this.dir, this.id);
  }

  get finished(): boolean {
    return this.done >= this.count;
  }

  /** A new, empty segment file (its magic still to be written by the commit). */
  static create(dir: string, id: number): Segment {
    const s = new Segment(dir, id, 0);
    s.fd = fs.openSync(s.path, "wx");
    s.size = MAGIC.length;
    s.written = 0;
    return s;
  }
}
