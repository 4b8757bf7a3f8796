// What the platform "saved": devices (with profile and the gateway flag), telemetry, attributes,
// claims, and a journal of every accepted or refused event in arrival order.
import { ClaimRecord, Counters, JournalEntry, JournalKind, TelemetryPoint } from './types';

export interface DeviceRecord {
  name: string;
  profile: string;
  gateway: string;
  isGateway: boolean;
  clientAttributes: Map<string, unknown>;
  sharedAttributes: Map<string, unknown>;
  claims: ClaimRecord[];
  // Telemetry kept as parallel arrays: the hot path appends three values, no object per point.
  tsList: number[];
  valuesList: Record<string, unknown>[];
  serverTsList: boolean[];
}

export class Store {
  readonly devices = new Map<string, DeviceRecord>();
  private readonly entries: JournalEntry[] = [];
  private seq = 0;
  readonly counters: Counters = { publishes: 0, bytes: 0, telemetryMessages: 0, telemetryPoints: 0, telemetryValues: 0 };

  /** Finds the device by name or creates it; an existing device keeps its profile. */
  getOrCreate(name: string, profile: string, gateway: string, isGateway = false): { device: DeviceRecord; created: boolean } {
    const existing = this.devices.get(name);
    if (existing) return { device: existing, created: false };
    const device: DeviceRecord = {
      name,
      profile,
      gateway,
      isGateway,
      clientAttributes: new Map(),
      sharedAttributes: new Map(),
      claims: [],
      tsList: [],
      valuesList: [],
      serverTsList: [],
    };
    this.devices.set(name, device);
    return { device, created: true };
  }

  get(name: string): DeviceRecord | undefined {
    return this.devices.get(name);
  }

  rename(oldName: string, newName: string): DeviceRecord {
    const device = this.devices.get(oldName);
    if (!device) throw new Error(`device "${oldName}" does not exist`);
    if (this.devices.has(newName)) throw new Error(`device "${newName}" already exists`);
    this.devices.delete(oldName);
    device.name = newName;
    this.devices.set(newName, device);
    return device;
  }

  remove(name: string): boolean {
    return this.devices.delete(name);
  }

  addPoint(device: DeviceRecord, ts: number, values: Record<string, unknown>, serverTs: boolean): void {
    device.tsList.push(ts);
    device.valuesList.push(values);
    device.serverTsList.push(serverTs);
  }

  telemetry(name: string): TelemetryPoint[] {
    const d = this.devices.get(name);
    if (!d) return [];
    const out: TelemetryPoint[] = new Array(d.tsList.length);
    for (let i = 0; i < d.tsList.length; i++) {
      out[i] = { ts: d.tsList[i], values: d.valuesList[i], serverTs: d.serverTsList[i] };
    }
    return out;
  }

  record(gateway: string, topic: string, kind: JournalKind, device?: string, detail?: unknown): JournalEntry {
    const entry: JournalEntry = { seq: ++this.seq, gateway, topic, kind };
    if (device !== undefined) entry.device = device;
    if (detail !== undefined) entry.detail = detail;
    this.entries.push(entry);
    return entry;
  }

  /** Keeps the last `keep` journal entries (an emulator left running: the editor's test platform). */
  trimJournal(keep: number): void {
    const n = this.entries.length - keep;
    if (n > 0) this.entries.splice(0, n);
  }

  journal(): JournalEntry[] {
    return this.entries.slice();
  }
}
