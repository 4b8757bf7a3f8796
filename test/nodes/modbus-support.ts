// Flow pieces and probes shared by the modbus-source runtime tests.
import type { FlowNode } from "../support/red";
import { helper } from "../support/red";

interface Call {
  thisValue: unknown;
  args: unknown[];
}

interface Spy {
  getCalls(): Call[];
}

/** Every call of a spied Node method (status, error, warn…) made by one node. */
export function callsOf(id: string, method: "status" | "error" | "warn"): unknown[][] {
  const node = helper.getNode(id) as unknown as Record<string, Spy>;
  return node[method].getCalls().filter((c) => c.thisValue === node).map((c) => c.args);
}

export interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

export function lastStatus(id: string): Status {
  const calls = callsOf(id, "status");
  return (calls[calls.length - 1]?.[0] ?? {}) as Status;
}

export function connectionNode(port: number, extra: Record<string, unknown> = {}): FlowNode {
  return { id: "conn", type: "modbus-connection", transport: "tcp", host: "127.0.0.1", port: String(port), timeout: "300", retries: "0", delay: "0", reconnectMin: "0.2", reconnectMax: "1", ...extra };
}

export function sourceNode(id: string, extra: Record<string, unknown> = {}, wires: string[][] = [[], [], [], []]): FlowNode {
  return { id, type: "modbus-source", connection: "conn", device: "Boiler 1", profile: "Boiler", unitId: "1", period: "3600", map: [], reportMode: "every-poll", deadband: "", reportPeriod: "", maxGap: "", maxRegisters: "", disconnectAfter: "0", wires, ...extra };
}
