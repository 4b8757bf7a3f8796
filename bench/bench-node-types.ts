// What the host reads of the bench nodes, and their editor file (Node-RED loads a .js only with its .html).
import type { Node } from "node-red";

export interface SinkNode extends Node {
  received: number;
  errors: number;
  firstError?: string;
}

export const BENCH_NODES_HTML = `
<script type="text/javascript">
  RED.nodes.registerType("bench-source", { category: "common", defaults: {}, inputs: 1, outputs: 1, label: "bench source" });
  RED.nodes.registerType("bench-sink", { category: "common", defaults: {}, inputs: 1, outputs: 0, label: "bench sink" });
  RED.nodes.registerType("bench-least-gateway", { category: "common", defaults: { url: { value: "" }, dir: { value: "" } }, inputs: 1, outputs: 0, label: "least gateway" });
</script>
`;
