// The device registry beside the data: a restarted gateway announces its devices (with their
// profiles) and follows the platform's renames before their backlog leaves. After the registry
// says it changed (`touch`), its snapshot is written atomically, coalesced to a few times a
// second, and once more, synchronously, at close.
import path from "path";
import { StateFile } from "./state-file";

export const DEVICES_FILE = "devices.json";

export class DevicesFile<T> {
  private readonly file: StateFile<T>;
  private timer: NodeJS.Timeout | undefined;
  private written = "";
  private dirty = false;

  constructor(dir: string, private readonly snapshot: () => T, warn: (m: string) => void, private readonly everyMs = 200) {
    this.file = new StateFile<T>(path.join(dir, DEVICES_FILE), warn);
  }

  /** What the previous run left (undefined when nothing). */
  read(): T | undefined {
    const v = this.file.read();
    if (v !== undefined) this.written = JSON.stringify(v);
    return v;
  }

  /** The registry changed: write its snapshot at the next tick. */
  touch(): void {
    this.dirty = true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.everyMs);
    this.timer.unref?.();
  }

  /** Stops watching and writes the last state (unless the folder is about to be deleted). */
  close(write = true): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!write) return;
    const v = this.snapshot();
    const json = JSON.stringify(v);
    if (json === this.written) return;
    try {
      this.file.writeSync(v);
      this.written = json;
    } catch {
      /* the folder is gone or unwritable: the store reports that itself */
    }
  }

  private check(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const v = this.snapshot();
    const json = JSON.stringify(v);
    if (json === this.written) return;
    this.written = json;
    void this.file.save(v);
  }
}
