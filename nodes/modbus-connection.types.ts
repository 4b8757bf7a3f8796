// The modbus-connection config node as the modbus-source nodes that use it see it.
import type { Node, NodeDef } from "node-red";
import type { LineStats, ModbusLine } from "../lib/modbus";

export interface ModbusConnectionDef extends NodeDef {
  transport: string;
  host: string;
  port: string;
  path: string;
  baudRate: string;
  dataBits: string;
  stopBits: string;
  parity: string;
  timeout: string;
  retries: string;
  delay: string;
  queueLimit: string;
  reconnectMin: string;
  reconnectMax: string;
  dropAfterTimeouts: string;
  /** Modbus TCP: requests in flight at once (default 1; absent in flows made before it). */
  inFlight?: string;
}

export interface ModbusConnectionNode extends Node {
  /**
   * The line, opened for this user; the same line for every user until the last one is
   * removed. Throws when the connection's settings are invalid.
   */
  acquire(user: Node): ModbusLine;
  /** Leaves the line; it closes when the last user was removed (not merely redeployed). */
  release(user: Node, removed: boolean): Promise<void>;
  /** Why the settings are unusable, if they are. */
  readonly problem: string | undefined;
  /** The open line's counters and target (the gateway's statistics read them); undefined while no line is open. */
  lineStats?(): (LineStats & { target: string }) | undefined;
}
