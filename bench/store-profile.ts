// Where the Node-RED process's time goes in the store benchmark: the disk store's own time (samples
// whose innermost frame of JavaScript code, Node's core and V8 builtins aside, is in
// dist/lib/outbox/store: what the store calls back, a msg's done() and what follows, is not its
// own), and by inclusive time the complete node that tells the benchmark a msg is done
// (Flow.handleComplete: a cloneMessage per msg), the package as a whole, and GC. `node dist/bench/store-profile.js file.cpuprofile [msgs]`
import fs from "fs";

interface Frame {
  functionName: string;
  url: string;
}
interface Node {
  id: number;
  callFrame: Frame;
  children?: number[];
}

export interface StoreSplit {
  busyMs: number;
  /** Own share of busy time (what it calls back excluded). */
  store: number;
  /** Inclusive shares of busy time. */
  complete: number;
  pkg: number;
  gc: number;
}

const PARTS: Array<[keyof Omit<StoreSplit, "busyMs">, (f: Frame) => boolean]> = [
  ["complete", (f) => f.functionName === "handleComplete"],
  ["pkg", (f) => f.url.includes("/dist/lib/") || f.url.includes("/dist/nodes/")],
  ["gc", (f) => f.functionName === "(garbage collector)"],
];

export function storeSplit(file: string): StoreSplit {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const parent = new Map<number, Node>();
  const byId = new Map<number, Node>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
  // Per node, which parts its stack holds (a bit each), memoised.
  const bits = new Map<number, number>();
  const of = (n: Node): number => {
    let b = bits.get(n.id);
    if (b !== undefined) return b;
    b = 0;
    PARTS.forEach(([, test], i) => {
      if (test(n.callFrame)) b! |= 1 << i;
    });
    const up = parent.get(n.id);
    if (up) b |= of(up);
    bits.set(n.id, b);
    return b;
  };
  // The innermost frame of code (the package's, Node-RED's, a dependency's) of each node.
  const owner = new Map<number, string>();
  const ownerOf = (n: Node): string => {
    let o = owner.get(n.id);
    if (o !== undefined) return o;
    const u = n.callFrame.url;
    if (u && !u.startsWith("node:") && (u.includes("/dist/") || u.includes("/node_modules/"))) o = u;
    else o = parent.get(n.id) ? ownerOf(parent.get(n.id)!) : "";
    owner.set(n.id, o);
    return o;
  };
  let store = 0;
  const sums = PARTS.map(() => 0);
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    if (!n || n.callFrame.functionName === "(idle)") continue;
    const dt = p.timeDeltas[i] ?? 0;
    busy += dt;
    if (ownerOf(n).includes("/dist/lib/outbox/store/")) store += dt;
    const b = of(n);
    PARTS.forEach((_, k) => {
      if (b & (1 << k)) sums[k] += dt;
    });
  }
  const out = { busyMs: busy / 1000, store: busy > 0 ? store / busy : 0 } as StoreSplit;
  PARTS.forEach(([name], k) => (out[name] = busy > 0 ? sums[k] / busy : 0));
  return out;
}

export function describeSplit(s: StoreSplit, msgs: number): string {
  const us = (share: number): string => ((share * s.busyMs * 1000) / msgs).toFixed(1);
  return `busy ${us(1)} µs/msg: disk store (own) ${us(s.store)}, complete node ${us(s.complete)}, package (store included) ${us(s.pkg)}, GC ${us(s.gc)} (sampled)`;
}

if (require.main === module) {
  const file = process.argv[2];
  const msgs = Number(process.argv[3] ?? 200000);
  console.log(describeSplit(storeSplit(file), msgs));
}
