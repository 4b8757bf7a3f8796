// modbus-connection: owns one Modbus line (a TCP connection or a serial port) for every
// modbus-source on it. The line opens with its first user and closes when its last user is
// removed (not merely redeployed), or when this config node itself stops: the core
// mqtt-broker pattern, so a partial deploy of one device never drops the line for the others.
import type { Node, NodeAPI, NodeDef } from "node-red";
import { ModbusLine, type LineOptions, type Transport } from "../lib/modbus";
import { numberOr } from "./common/property";
import type { ModbusConnectionDef, ModbusConnectionNode } from "./modbus-connection.types";

const TYPE = "modbus-connection";
const TRANSPORTS: readonly Transport[] = ["tcp", "rtu", "rtu-over-tcp", "ascii"];

function noSerial(reason: string): string {
  return `serial port support is not installed (${reason}); run npm install serialport in the Node-RED user directory, or use Modbus TCP / RTU over TCP`;
}

function isSerial(t: string): boolean {
  return t === "rtu" || t === "ascii";
}

/** serialport is optional: without it the package still loads and TCP works. */
function serialMissing(): string | undefined {
  try {
    require.resolve("serialport");
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.split("\n")[0] : String(err);
  }
}

function lineOptions(c: ModbusConnectionDef): LineOptions {
  const transport = (TRANSPORTS as readonly string[]).includes(c.transport) ? (c.transport as Transport) : "tcp";
  const o: LineOptions = {
    transport,
    timeoutMs: numberOr(c.timeout, 1000),
    retries: numberOr(c.retries, 1),
    interRequestDelayMs: numberOr(c.delay, 0),
    queueLimit: numberOr(c.queueLimit, 100),
    dropAfterTimeouts: numberOr(c.dropAfterTimeouts, 0),
    reconnect: { initialMs: numberOr(c.reconnectMin, 1) * 1000, maxMs: numberOr(c.reconnectMax, 30) * 1000 },
  };
  if (isSerial(transport)) {
    o.path = (c.path || "").trim();
    o.baudRate = numberOr(c.baudRate, 9600);
    o.dataBits = numberOr(c.dataBits, 8) === 7 ? 7 : 8;
    o.stopBits = numberOr(c.stopBits, 1) === 2 ? 2 : 1;
    o.parity = c.parity === "even" || c.parity === "odd" ? c.parity : "none";
  } else {
    o.host = (c.host || "").trim();
    o.port = numberOr(c.port, 502);
  }
  // only Modbus TCP can keep several requests apart (transaction ids); old flows have no field
  if (transport === "tcp") o.inFlight = numberOr(c.inFlight, 1);
  return o;
}

export = function (RED: NodeAPI): void {
  function ModbusConnection(this: ModbusConnectionNode, config: ModbusConnectionDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    let line: ModbusLine | undefined;
    const options = lineOptions(config);

    let problem: string | undefined;
    if (!(TRANSPORTS as readonly string[]).includes(config.transport || "tcp")) {
      problem = `transport must be tcp, rtu, rtu-over-tcp or ascii, got ${JSON.stringify(config.transport)}`;
    } else if (isSerial(options.transport) && serialMissing()) {
      problem = noSerial(serialMissing() ?? "");
    } else {
      try {
        new ModbusLine(options); // only checks the options: nothing opens before the first request
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
    }
    if (problem) node.error(`${TYPE}: ${problem}`);
    Object.defineProperty(node, "problem", { value: problem });

    node.acquire = (user: Node) => {
      if (problem) throw new Error(problem);
      users.set(user.id, user);
      if (!line || line.state.status === "closed") {
        line = new ModbusLine(options);
        const l = line;
        l.on("state", (s: { status: string; reason?: string }) => {
          if (s.status === "disconnected") node.log(RED._(`${TYPE}.log.disconnected`, { target: l.target, reason: s.reason ?? "" }));
          if (s.status === "connected") node.log(RED._(`${TYPE}.log.connected`, { target: l.target }));
        });
        l.open();
      }
      return line;
    };

    node.lineStats = () => (line && line.state.status !== "closed" ? { ...line.stats, target: line.target } : undefined);

    node.release = async (user: Node, removed: boolean) => {
      users.delete(user.id);
      if (removed && users.size === 0 && line) {
        const l = line;
        line = undefined;
        await l.close();
      }
    };

    node.on("close", (_removed: boolean, done: () => void) => {
      const l = line;
      line = undefined;
      users.clear();
      if (l) l.close().then(done, done);
      else done();
    });
  }

  RED.nodes.registerType(TYPE, ModbusConnection as unknown as (this: Node, def: NodeDef) => void);

  // The editor's serial port picker; works only where serialport is installed.
  RED.httpAdmin.get(`/${TYPE}/ports`, RED.auth.needsPermission(`${TYPE}.read`), (_req, res) => {
    let list: () => Promise<Array<{ path: string; manufacturer?: string }>>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sp = require("serialport") as { SerialPort: { list(): Promise<Array<{ path: string; manufacturer?: string }>> } };
      list = () => sp.SerialPort.list();
    } catch (err) {
      res.json({ available: false, error: noSerial(err instanceof Error ? err.message.split("\n")[0] : String(err)), ports: [] });
      return;
    }
    list().then(
      (ports) => res.json({ available: true, ports: ports.map((p) => ({ path: p.path, manufacturer: p.manufacturer ?? "" })) }),
      (err: unknown) => res.json({ available: true, error: err instanceof Error ? err.message : String(err), ports: [] }),
    );
  });
};
