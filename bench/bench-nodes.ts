// Two helper node types for the benchmark flows, loaded by the embedded Node-RED from a temp
// nodes dir. `bench-source` sends the workload into the flow in chunks (yielding to I/O after
// each); `bench-sink` counts what reaches it (done msgs, caught errors); `bench-least-gateway`
// (bench/floor-nodes.ts) is the floor of telemetry-out.
import type { Node, NodeAPI, NodeDef, NodeMessage } from "node-red";
import { now } from "./clock";
import type { SinkNode } from "./bench-node-types";
import { registerLeastGateway } from "./floor-nodes";
import { multiDevicePayload, sourceMsg, type Workload } from "./workload";

export = function (RED: NodeAPI): void {
  function BenchSource(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    node.on("input", (msg, _send, done) => {
      const w = msg.payload as Workload;
      const t0 = Date.now();
      let i = 0;
      const per = w.pointsPerMsg ?? 1;
      const step = (): void => {
        const end = Math.min(i + w.chunk, w.msgs);
        if (per === 1) for (; i < end; i++) node.send(sourceMsg(i, w.devices, t0) as unknown as NodeMessage);
        else
          for (; i < end; i += per) node.send({ payload: multiDevicePayload(i, Math.min(per, w.msgs - i), w.devices, t0) } as NodeMessage);
        if (i < w.msgs) setImmediate(step);
        else {
          node.emit("bench:generated", now());
          done();
        }
      };
      node.emit("bench:start", now());
      step();
    });
  }

  function BenchSink(this: SinkNode, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    node.received = 0;
    node.errors = 0;
    node.on("input", (msg, _send, done) => {
      node.received++;
      const error = (msg as { error?: { message?: string } }).error;
      if (error) {
        node.errors++;
        if (node.firstError === undefined) node.firstError = String(error.message);
      }
      done();
    });
  }

  RED.nodes.registerType("bench-source", BenchSource as unknown as (this: Node, def: NodeDef) => void);
  RED.nodes.registerType("bench-sink", BenchSink as unknown as (this: Node, def: NodeDef) => void);
  registerLeastGateway(RED);
};
