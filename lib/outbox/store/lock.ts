// One process, one store folder: a `lock` file holds the owner's pid. A lock whose process is
// gone (a crash, a kill -9, a power cut) is stale and taken over; a lock of a live process is
// refused with its pid, so that two Node-RED instances never write the same log. Within one
// process, a folder is held by one store at a time (two gateway-configs with the same path).
import fs from "fs";
import path from "path";

const heldHere = new Set<string>();

export class LockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LockError";
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function owner(file: string): number | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as { pid?: unknown };
    return typeof v.pid === "number" ? v.pid : undefined;
  } catch {
    return undefined; // unreadable or half written: nobody can prove they own it
  }
}

export class DirLock {
  private constructor(readonly dir: string, private readonly file: string) {}

  /** Takes the lock of `dir` (which must exist), or throws a LockError saying who holds it. */
  static acquire(dir: string): DirLock {
    const key = path.resolve(dir);
    if (heldHere.has(key)) throw new LockError(`the store folder ${dir} is already used by another gateway-config in this Node-RED: give each its own path`);
    const file = path.join(dir, "lock");
    const body = JSON.stringify({ pid: process.pid, since: new Date().toISOString() }) + "\n";
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(file, body, { flag: "wx" });
        heldHere.add(key);
        return new DirLock(key, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const pid = owner(file);
      // Our own pid in a lock nobody here holds: a previous run with the same pid (containers
      // often start Node-RED as pid 1), so stale as well.
      if (pid !== undefined && pid !== process.pid && alive(pid)) {
        throw new LockError(`the store folder ${dir} is locked by another running process (pid ${pid}); two Node-RED instances cannot share a store`);
      }
      fs.rmSync(file, { force: true });
    }
    throw new LockError(`could not lock the store folder ${dir}`);
  }

  release(): void {
    heldHere.delete(this.dir);
    try {
      if (owner(this.file) === process.pid) fs.rmSync(this.file, { force: true });
    } catch {
      /* the folder may be gone already (removed with its gateway-config) */
    }
  }
}
