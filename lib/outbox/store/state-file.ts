// Small JSON state kept beside the data (the device registry, the rename map): replaced
// atomically, so that a crash leaves either the old file or the new one, never half of each.
// Write a temporary file, fsync it, rename it over the old one, fsync the folder.
import fs from "fs";
import path from "path";

let tmpSeq = 0;

export function writeJsonAtomicSync(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.${++tmpSeq}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, JSON.stringify(value));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const d = fs.openSync(path.dirname(file), "r");
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  } catch {
    /* not every platform fsyncs a folder */
  }
}

/** The same, without blocking the event loop during the fsyncs. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.${++tmpSeq}.tmp`;
  const fh = await fs.promises.open(tmp, "w");
  try {
    await fh.writeFile(JSON.stringify(value));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
  try {
    const d = await fs.promises.open(path.dirname(file), "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* not every platform fsyncs a folder */
  }
}

/** The value in `file`; undefined when there is none. A corrupt file is reported through `warn`. */
export function readJson<T>(file: string, warn?: (m: string) => void): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn?.(`could not read ${file}: ${(err as Error).message}`);
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    warn?.(`${file} is not valid JSON and was ignored: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * One state file. `save` coalesces: while a write runs, only the newest value waits, so a
 * registry that changes a thousand times a second costs one write at a time.
 */
export class StateFile<T> {
  private writing: Promise<void> | undefined;
  private next: { value: T } | undefined;

  constructor(readonly file: string, private readonly warn?: (m: string) => void) {}

  read(): T | undefined {
    return readJson<T>(this.file, this.warn);
  }

  writeSync(value: T): void {
    writeJsonAtomicSync(this.file, value);
  }

  /** Resolves once no write is running or waiting. */
  idle(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  /** Writes `value` soon (off the caller's stack); resolves when it, or a newer value, is on disk. */
  save(value: T): Promise<void> {
    this.next = { value };
    if (!this.writing) this.writing = this.drain();
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const { value } = this.next;
      this.next = undefined;
      try {
        await writeJsonAtomic(this.file, value);
      } catch (err) {
        this.warn?.(`could not write ${this.file}: ${(err as Error).message}`);
      }
    }
    this.writing = undefined;
  }
}
