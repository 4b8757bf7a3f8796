// The device registry beside the data: a restarted gateway announces its devices (with their
// profiles, and the rename map once the registry has one) before their backlog leaves. The
// registry has no change events, so its snapshot is compared a few times a second and written
// (atomically, coalesced) when it changed, and written once more, synchronously, at close.
import path from "path";
import { StateFile } from "./state-file";

export const DEVICES_FILE = "devices.json";

export class DevicesFile<T> {
  private readonly file: StateFile<T>;
  private timer: NodeJS.Timeout | undefined;
  private written = "";

  constructor(dir: string, private readonly snapshot: () => T, warn: (m: string) => void, private readonly everyMs = 200) {
    this.file = new StateFile<T>(path.join(dir, DEVICES_FILE), warn);
  }

  /** What the previous run left (undefined when nothing). */
  read(): T | undefined {
    const v = this.file.read();
    if (v !== undefined) this.written = JSON.stringify(v);
    return v;
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
    const v = this.snapshot();
    const json = JSON.stringify(v);
    if (json === this.written) return;
    this.written = json;
    void this.file.save(v);
  }
}
