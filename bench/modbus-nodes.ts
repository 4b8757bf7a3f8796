// The one helper node type of the Modbus bench flows: `modbus-bench-counter` counts the msgs the
// pollers send (one per poll of a modbus-source, one per read of a modbus-read).
import type { Node, NodeAPI, NodeDef } from "node-red";

// (Its .html is written by bench/modbus-host.ts: Node-RED loads a .js only with its .html.)
interface CounterNode extends Node {
  received: number;
}

export = function (RED: NodeAPI): void {
  function Counter(this: CounterNode, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    node.received = 0;
    node.on("input", (_msg, _send, done) => {
      node.received++;
      done();
    });
  }
  RED.nodes.registerType("modbus-bench-counter", Counter as unknown as (this: Node, def: NodeDef) => void);
};
