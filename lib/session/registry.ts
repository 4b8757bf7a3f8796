// The devices this gateway has announced, and the platform's renames of them. ThingsBoard
// forgets the devices when the gateway's connection drops, so the session announces every one
// again after each reconnect: a device here is re-published on every connect, so only what
// validates gets in (one bad profile would otherwise cost every later session).
// The rename map turns the names the flow still uses into the platform's current ones: an
// uplink under the old name would make the server create a second device.
import { EventEmitter } from "events";
import { deviceProblem, profileProblem } from "../dialect/validate";

export interface DeviceRecord {
  name: string;
  profile?: string;
}

/** What a registry is made of, as plain JSON: kept across redeploys and restarts. */
export interface RegistrySnapshot {
  devices: DeviceRecord[];
  /** [the flow's name, the platform's current name] */
  renames: Array<[string, string]>;
}

/** Renames remembered at most; the oldest is forgotten first. */
const MAX_RENAMES = 10000;

export class DeviceRegistry extends EventEmitter<{ changed: [] }> {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly renames = new Map<string, string>();

  get size(): number {
    return this.devices.size;
  }

  has(name: string): boolean {
    return this.devices.has(name);
  }

  get(name: string): DeviceRecord | undefined {
    return this.devices.get(name);
  }

  /** What is wrong with a device and profile for the registry; null when they may be held. */
  static problem(name: unknown, profile?: unknown): string | null {
    return deviceProblem(name) ?? profileProblem(profile);
  }

  /**
   * Returns true when the device is new or its profile changed (it must be announced); false
   * (and nothing held) for a name or profile that does not validate.
   */
  add(name: string, profile?: string): boolean {
    const known = this.devices.get(name);
    // Known with this profile (or none given): validated when it was added; the per-msg path stops here.
    if (known && (profile === undefined || known.profile === profile)) return false;
    if (DeviceRegistry.problem(name, profile)) return false;
    this.devices.set(name, { name, profile: profile ?? known?.profile });
    this.emit("changed");
    return true;
  }

  remove(name: string): boolean {
    if (!this.devices.delete(name)) return false;
    this.emit("changed");
    return true;
  }

  /** The platform's current name for a name the flow uses. */
  current(name: string): string {
    return this.renames.get(name) ?? name;
  }

  /**
   * The platform renamed `from` to `to`: the device (if held) moves, and the flow's names that
   * meant `from` mean `to` from now on. A device the platform now calls `to` is that device,
   * whatever `to` meant before.
   */
  rename(from: string, to: string): boolean {
    if (deviceProblem(from) || deviceProblem(to) || from === to) return false;
    for (const [old, now] of [...this.renames]) if (now === from) this.setRename(old, to);
    this.renames.delete(to);
    this.setRename(from, to);
    const d = this.devices.get(from);
    if (d) {
      this.devices.delete(from);
      this.devices.set(to, { ...d, name: to });
    }
    this.emit("changed");
    return d !== undefined;
  }

  /** The platform deleted a device: the names that meant it are the flow's own again. */
  deleted(name: string): void {
    for (const [old, now] of [...this.renames]) if (now === name) this.renames.delete(old);
    this.devices.delete(name);
    this.emit("changed");
  }

  all(): IterableIterator<DeviceRecord> {
    return this.devices.values();
  }

  snapshot(): RegistrySnapshot {
    return { devices: [...this.devices.values()].map((d) => ({ ...d })), renames: [...this.renames] };
  }

  /** Adds a snapshot's devices and renames (what does not validate is left out). */
  restore(s: Partial<RegistrySnapshot> | undefined): void {
    if (!s) return;
    for (const pair of Array.isArray(s.renames) ? s.renames : []) {
      if (Array.isArray(pair) && !deviceProblem(pair[0]) && !deviceProblem(pair[1]) && pair[0] !== pair[1]) this.setRename(pair[0], pair[1]);
    }
    for (const d of Array.isArray(s.devices) ? s.devices : []) {
      if (typeof d === "object" && d !== null && !DeviceRegistry.problem(d.name, d.profile)) this.devices.set(d.name, { name: d.name, profile: d.profile });
    }
    this.emit("changed");
  }

  private setRename(from: string, to: string): void {
    this.renames.delete(from);
    if (from === to) return;
    this.renames.set(from, to);
    if (this.renames.size > MAX_RENAMES) this.renames.delete(this.renames.keys().next().value as string);
  }
}
