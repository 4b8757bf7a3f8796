// Reads a V8 .cpuprofile (node --cpu-prof) and names where the time went: self time per
// function, total (inclusive) time per function, and self time per area of code.
import fs from "fs";
import path from "path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  self: HotSpot[];
  total: HotSpot[];
  areas: HotSpot[];
}

const ROOT = path.resolve(__dirname, "..", "..");

function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, "");
  if (u.startsWith(ROOT + "/")) u = u.slice(ROOT.length + 1);
  return u.replace(/^node_modules\//, "");
}

function where(f: CallFrame): string {
  const name = f.functionName || "(anonymous)";
  if (!f.url) return name;
  return `${shortUrl(f.url)}:${f.lineNumber + 1} ${name}`;
}

export function area(f: CallFrame): string {
  const u = f.url;
  if (!u) return f.functionName.startsWith("(") ? f.functionName : "V8 / native";
  if (u.includes("/dist/nodes/")) return "package adapters (dist/nodes)";
  if (u.includes("/dist/lib/")) return "package engine (dist/lib)";
  if (u.includes("/dist/bench/")) return "bench source/sink";
  if (u.includes("/@node-red/runtime/")) return "Node-RED runtime";
  if (u.includes("/@node-red/util/")) return "Node-RED util (cloneMessage, ids…)";
  if (u.includes("/@node-red/")) return "Node-RED other";
  if (u.includes("/node_modules/mqtt")) return "mqtt.js + mqtt-packet";
  if (u.includes("/node_modules/")) return "other dependencies";
  if (u.startsWith("node:")) return "Node.js core";
  return "other";
}

function top(m: Map<string, number>, busy: number, n: number): HotSpot[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([w, us]) => ({ where: w, ms: us / 1000, share: us / busy }));
}

export function summarise(file: string, n = 25): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) byId.set(node.id, node);
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    totalUs += dt;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += dt;
      continue;
    }
    const w = where(node.callFrame);
    self.set(w, (self.get(w) ?? 0) + dt);
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = where(byId.get(id)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const busy = totalUs - idleUs;
  return { file, totalMs: totalUs / 1000, busyMs: busy / 1000, self: top(self, busy, n), total: top(total, busy, n * 2), areas: top(areas, busy, 20) };
}

export function printSummary(s: ProfileSummary, out: (line: string) => void = console.log): void {
  const pct = (x: number): string => (100 * x).toFixed(1).padStart(5) + "%";
  out(`profile ${s.file}: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy (shares below are of busy time)`);
  out("  self time by area:");
  for (const h of s.areas) out(`    ${pct(h.share)}  ${h.where}`);
  out("  self time by function:");
  for (const h of s.self) out(`    ${pct(h.share)}  ${h.where}`);
  out("  total (inclusive) time by function:");
  for (const h of s.total) out(`    ${pct(h.share)}  ${h.where}`);
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node dist/bench/profile.js <file.cpuprofile> [top-n]");
    process.exit(2);
  }
  printSummary(summarise(file, Number(process.argv[3] ?? 25)));
}
