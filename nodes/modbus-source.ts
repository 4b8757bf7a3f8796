// modbus-source: one field device on a modbus-connection. Polls it by its register map and
// sends msgs shaped for telemetry-out (output 1) and attribute-out (output 2); writes (or reads)
// keys on input and sends the result for rpc-response (output 3); tells device-connect when the
// device stops and starts answering (output 4). All protocol work is in lib/modbus.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from "node-red";
import { UnitPoller, UnitWriter, type LineState, type ModbusLine, type PollResult, type UnitState, type Value } from "../lib/modbus";
import { asSentences, userError } from "./common/gateway-user";
import type { ModbusConnectionNode } from "./modbus-connection.types";
import { checkSource, editorMap, effectiveValues, getKeys, setValues, type EditorMapRequest, type ModbusSourceDef, type SourceConfig } from "./modbus-source.config";

const TYPE = "modbus-source";

type Out = [NodeMessage | null, NodeMessage | null, NodeMessage | null, NodeMessage | null];

/** "illegal data address at holding 98..102 (unit 1, read)" → the part before the parenthesis. */
function short(text: string): string {
  const cut = text.replace(/ \(unit \d+, (read|write)\)$/, "").replace(/; next try in \d+ ms$/, "");
  return cut.length > 60 ? cut.slice(0, 57) + "..." : cut;
}

function period(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export = function (RED: NodeAPI): void {
  function ModbusSource(this: Node, def: ModbusSourceDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const checked = checkSource(def);
    const conn = def.connection ? (RED.nodes.getNode(def.connection) as ModbusConnectionNode | null) : null;
    let problem: string | undefined = typeof checked === "string" ? checked : undefined;
    if (!problem && (!conn || typeof conn.acquire !== "function")) problem = RED._(`${TYPE}.errors.no-connection`);
    // the connection's own problem (serial support missing…) is what the status shows
    let statusText = RED._(`${TYPE}.status.invalid`);
    if (!problem && conn?.problem) {
      problem = conn.problem;
      statusText = short(conn.problem.split(" (")[0]);
    }

    let line: ModbusLine | undefined;
    let poller: UnitPoller | undefined;
    let writer: UnitWriter | undefined;
    let cfg: SourceConfig | undefined;
    if (!problem && typeof checked !== "string" && conn) {
      cfg = checked;
      try {
        line = conn.acquire(node);
        poller = new UnitPoller(line, { unitId: cfg.unitId, map: cfg.entries, periodMs: cfg.periodMs, plan: cfg.plan });
        writer = new UnitWriter(line, cfg.unitId, cfg.entries);
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
        if (line) void conn.release(node, false);
        line = undefined;
        poller = undefined;
      }
    }
    if (problem || !cfg || !line || !poller || !writer) {
      const message = userError(TYPE, problem ?? "not configured").message;
      node.error(message);
      node.status({ fill: "red", shape: "ring", text: statusText });
      node.on("input", (_msg, _send, done) => asSentences(done)(new Error(message)));
      return;
    }
    const c: SourceConfig = cfg;
    const l: ModbusLine = line;
    const p: UnitPoller = poller;
    const w: UnitWriter = writer;

    // ---- status: the line's state first, then the unit's ----------------------------------
    function status(): NodeStatus {
      const ls = l.state;
      if (ls.status === "idle" || ls.status === "connecting") return { fill: "yellow", shape: "ring", text: RED._(`${TYPE}.status.connecting`) };
      if (ls.status === "disconnected") return { fill: "red", shape: "ring", text: `${RED._(`${TYPE}.status.disconnected`)}: ${short(ls.reason ?? "")}` };
      if (ls.status === "closed") return { fill: "grey", shape: "ring", text: RED._(`${TYPE}.status.closed`) };
      const us = p.state;
      if (us.status === "not-responding") return { fill: "red", shape: "ring", text: RED._(`${TYPE}.status.not-responding`, { unit: c.unitId }) };
      if (us.status === "failing") return { fill: "yellow", shape: "dot", text: short(us.message ?? "") };
      return { fill: "green", shape: "dot", text: RED._(`${TYPE}.status.polling`, { period: period(c.periodMs) }) };
    }
    let shown = "";
    function show(): void {
      const s = status();
      const key = JSON.stringify(s);
      if (key === shown) return;
      shown = key;
      node.status(s);
    }

    // ---- device connect/disconnect on the platform ----------------------------------------
    let silentPolls = 0;
    let offline = false;
    function deviceState(action: "connect" | "disconnect", reason?: string): NodeMessage {
      const m: Record<string, unknown> = { device: c.device, action, payload: action };
      if (c.profile) m.profile = c.profile;
      if (reason) m.reason = reason;
      return m as NodeMessage;
    }

    const onLine = (_s: LineState): void => show();
    let lastUnitStatus: UnitState["status"] = "ok";
    const onUnit = (s: UnitState): void => {
      if (s.status !== lastUnitStatus && s.status !== "ok" && l.state.status === "connected") node.warn(`${TYPE} "${c.device}": ${s.message ?? s.status}`);
      lastUnitStatus = s.status;
      show();
    };
    const onValues = (r: PollResult): void => {
      const out: Out = [null, null, null, null];
      if (Object.keys(r.errors).length === 0) {
        silentPolls = 0;
        if (offline) {
          offline = false;
          node.send([null, null, null, deviceState("connect")]);
        }
      }
      const base = (): Record<string, unknown> => (c.profile ? { device: c.device, profile: c.profile, ts: r.ts } : { device: c.device, ts: r.ts });
      if (Object.keys(r.report.telemetry).length > 0) out[0] = { ...base(), payload: r.report.telemetry } as NodeMessage;
      if (Object.keys(r.report.attributes).length > 0) out[1] = { ...base(), payload: r.report.attributes } as NodeMessage;
      if (out[0] || out[1]) node.send(out);
    };
    const onPollError = (err: Error & { kind?: string }): void => {
      // an exception answer or a decoding problem means the device is there: it counts for nothing
      if (err.kind === "exception" || err.kind === "range" || err.kind === "config") return;
      silentPolls++;
      if (c.disconnectAfter > 0 && silentPolls >= c.disconnectAfter && !offline) {
        offline = true;
        node.send([null, null, null, deviceState("disconnect", err.message)]);
      }
    };
    l.on("state", onLine);
    p.on("state", onUnit);
    p.on("values", onValues);
    p.on("poll-error", onPollError);
    show();
    p.start();

    // ---- writes and reads on input ----------------------------------------------------------
    // The input msg is never written to (it may be frozen, or already handed on elsewhere):
    // answers on output 3 are new msgs with the input's properties and a new payload. done is
    // called exactly once, whatever throws.
    node.on("input", (msg, send, nodeRedDone) => {
      const done = asSentences(nodeRedDone);
      let ended = false;
      const end = (err?: Error): void => {
        if (ended) return;
        ended = true;
        if (err) done(err);
        else done();
      };
      const answer = (payload: unknown): void => send([null, null, { ...msg, payload } as NodeMessage, null]);
      const m = msg as NodeMessage & { device?: unknown; method?: unknown; rpc?: { method?: unknown } };
      let isRpc = false;
      const fail = (err: unknown): void => {
        const e = userError(TYPE, err);
        try {
          // rpc-response still answers the platform, with the reason
          if (isRpc) answer({ error: e.message });
        } finally {
          end(e);
        }
      };
      try {
        const method = m.method ?? (typeof m.rpc === "object" && m.rpc !== null ? m.rpc.method : undefined);
        isRpc = m.rpc !== undefined || method === "set" || method === "get";
        // a msg for another device (an unfiltered rpc-in or attribute-in feeding several sources) is not ours
        if (typeof m.device === "string" && m.device !== "" && m.device !== c.device) return end();
        let work: Promise<Record<string, Value>>;
        if (isRpc && method === "get") {
          const keys = getKeys(msg.payload);
          work = (async () => {
            const out: Record<string, Value> = {};
            for (const k of keys) out[k] = await w.get(k);
            return out;
          })();
        } else if (!isRpc || method === "set") {
          const values = setValues(msg.payload, isRpc);
          work = w.write(values).then(() => effectiveValues(c.entries, values));
        } else {
          throw new Error(`RPC method ${JSON.stringify(method)} is not one modbus-source answers: use set or get`);
        }
        work.then(
          (result) => {
            try {
              answer(result);
              end();
            } catch (err) {
              fail(err);
            }
          },
          (err: unknown) => {
            try { fail(err); } catch { /* done was called; a throwing send is the flow's */ }
          },
        );
      } catch (err) {
        try { fail(err); } catch { /* as above */ }
      }
    });

    node.on("close", (removed: boolean, done: () => void) => {
      l.removeListener("state", onLine);
      p.stop().then(
        () => {
          p.removeAllListeners();
          return conn?.release(node, removed);
        },
      ).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType(TYPE, ModbusSource as unknown as (this: Node, def: NodeDef) => void);

  // The editor validates, imports and exports the register map here, so that its rules are
  // the runtime's own and exist once.
  RED.httpAdmin.post(`/${TYPE}/map`, RED.auth.needsPermission(`${TYPE}.read`), (req, res) => {
    try {
      res.json(editorMap((req.body ?? {}) as EditorMapRequest));
    } catch (err) {
      res.status(400).json({ rows: [], rowErrors: {}, errors: [err instanceof Error ? err.message : String(err)] });
    }
  });
};
