// The devices this gateway has announced. ThingsBoard forgets them when the gateway's
// connection drops, so the session announces every one of them again after each reconnect.
export interface DeviceRecord {
  name: string;
  profile?: string;
}

export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();

  get size(): number {
    return this.devices.size;
  }

  has(name: string): boolean {
    return this.devices.has(name);
  }

  get(name: string): DeviceRecord | undefined {
    return this.devices.get(name);
  }

  /** Returns true when the device is new or its profile changed (it must be announced). */
  add(name: string, profile?: string): boolean {
    const known = this.devices.get(name);
    if (known && (profile === undefined || known.profile === profile)) return false;
    this.devices.set(name, { name, profile: profile ?? known?.profile });
    return true;
  }

  remove(name: string): boolean {
    return this.devices.delete(name);
  }

  rename(from: string, to: string): boolean {
    const d = this.devices.get(from);
    if (!d) return false;
    this.devices.delete(from);
    this.devices.set(to, { ...d, name: to });
    return true;
  }

  all(): IterableIterator<DeviceRecord> {
    return this.devices.values();
  }
}
