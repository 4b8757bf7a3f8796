// The device registry beside the data (its devices with their profiles, and the platform's
// renames): a restarted gateway announces its devices, under their current names, before their
// backlog leaves. Written atomically and coalesced (one write at a time, the newest value
// next) when the registry says it changed, and once more, synchronously, at close.
import path from "path";
import { StateFile } from "./state-file";

export const DEVICES_FILE = "devices.json";

export class DevicesFile<T> {
  private readonly file: StateFile<T>;
  private started = false;
  private written = "";
  private dirty = false;

  constructor(dir: string, private readonly snapshot: () => T, warn: (m: string) => void) {
    this.file = new StateFile<T>(path.join(dir, DEVICES_FILE), warn);
  }

  /** What the previous run left (undefined when nothing). */
  read(): T | undefined {
    const v = this.file.read();
    if (v !== undefined) this.written = JSON.stringify(v);
    return v;
  }

  /** The folder exists now: writes follow changes from here on. */
  start(): void {
    this.started = true;
    this.changed();
  }

  /** The registry changed: write it soon (unless it is what the file holds already). */
  changed(): void {
    if (!this.started) return;
    const v = this.snapshot();
    const json = JSON.stringify(v);
    if (json === this.written) return;
    this.written = json;
    void this.file.save(v);
  }

  /** Stops following, lets a running write end, and writes the last state (unless the folder is about to be deleted). */
  async close(write = true): Promise<void> {
    const was = this.started;
    this.started = false;
    await this.file.idle();
    if (!write || !was) return;
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
}
