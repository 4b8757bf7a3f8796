// Issue 7 "Done when": a seeded fuzz of every node with an input (thousands of generated msgs,
// hostile values of every kind) while the platform sends thousands of hostile downlinks on every
// subscribed topic. Then: no crash, no unhandled rejection, every msg ended exactly once (done or
// a catchable done(err)), nothing the emulator refused or closed for, and the same session still
// delivers telemetry and answers RPCs. The seed is printed; FUZZ_SEED=<n> reproduces a run.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { collect, gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

type Msg = Record<string, unknown>;

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
const MSGS_PER_NODE = Number(process.env.FUZZ_MSGS ?? 2000);
const DOWNLINKS_PER_TOPIC = Number(process.env.FUZZ_DOWNLINKS ?? 2000);

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzz {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** The devices that really exist; hostile names around them. */
  static readonly DEVICES = ["A", "B", "C", "Pump 1", "Ünïcødé ☃"];

  name(): unknown {
    return this.chance(0.6) ? this.pick(Fuzz.DEVICES) : this.hostile(1);
  }

  /** Any value a flow can put on a msg, JSON or not. */
  hostile(depth: number): unknown {
    const cases: Array<() => unknown> = [
      () => undefined,
      () => null,
      () => "",
      () => " ",
      () => "x".repeat(this.pick([1, 255, 256, 70000])),
      () => this.pick(Fuzz.DEVICES),
      () => "\u0000\ud800",
      () => this.pick([0, -1, 1.5, -0, 2 ** 53 + 1, 1e300, NaN, Infinity, -Infinity]),
      () => this.chance(0.5),
      () => BigInt(this.int(100)),
      () => Symbol("s"),
      () => () => 1,
      () => new Date(this.int(2 ** 41)),
      () => Buffer.from([this.int(256), this.int(256)]),
      () => new Map([["a", 1]]),
      () => ({ toJSON: () => undefined }),
      () => ({
        toJSON: () => {
          throw new Error("no JSON");
        },
      }),
      () => {
        const o: Record<string, unknown> = { a: 1 };
        o.self = o;
        return o;
      },
      () => {
        let o: unknown = 1;
        for (let i = 0; i < 40; i++) o = { o };
        return o;
      },
      () => Object.create(null),
      () => ({}),
      () => [],
      // eslint-disable-next-line no-sparse-arrays
      () => [, "k"],
      () => new Array(3),
      () => ({ "": 1 }),
      () => ({ a: this.hostileLeaf() }),
      () => ({ ts: this.pick([1, -1, "1", NaN, 1.5, 1e300]), values: depth > 0 ? this.hostile(depth - 1) : {} }),
      () => [{ ts: 1700000000000 + this.int(1000), values: { v: this.int(100) } }, depth > 0 ? this.hostile(depth - 1) : 1],
      () => ({ [this.pick(Fuzz.DEVICES)]: depth > 0 ? this.hostile(depth - 1) : [{ v: 1 }] }),
      () => ({ k: this.int(1000), s: "ok", n: { x: [1, "2", null] } }),
    ];
    return this.pick(cases)();
  }

  hostileLeaf(): unknown {
    return this.pick<() => unknown>([() => NaN, () => undefined, () => () => 0, () => Symbol("x"), () => BigInt(1), () => "ok", () => 1, () => null])();
  }

  /** A plausible payload for the node, or anything at all. */
  payloadFor(node: string): unknown {
    if (this.chance(0.4)) return this.hostile(2);
    if (node === "tel") return this.pick<() => unknown>([() => ({ t: this.int(100) }), () => [{ ts: 1700000000000 + this.int(1e6), values: { t: this.int(100) } }], () => ({ A: [{ t: 1 }], B: [{ ts: 1, values: { u: 2 } }] })])();
    return { v: this.int(100), s: "text", on: this.chance(0.5) };
  }

  msgFor(node: string, rpcs: Msg[]): Msg {
    const m: Msg = {};
    const maybe = (k: string, v: () => unknown, p = 0.5): void => {
      if (this.chance(p)) m[k] = v();
    };
    maybe("device", () => this.name(), 0.9);
    m.payload = this.payloadFor(node);
    maybe("profile", () => (this.chance(0.5) ? "Meters" : this.hostile(1)), 0.3);
    maybe("ts", () => (this.chance(0.5) ? Date.now() : this.hostile(0)), 0.2);
    maybe("keys", () => (this.chance(0.5) ? this.pick(["t", "a, b", ["a", "b"]]) : this.hostile(1)), node === "in" ? 0.7 : 0.1);
    maybe("scope", () => this.pick(["client", "shared", this.hostile(0)]), 0.2);
    maybe("action", () => this.pick(["connect", "disconnect", this.hostile(0)]), node === "dc" ? 0.5 : 0.05);
    maybe("secretKey", () => (this.chance(0.5) ? "secret" : this.hostile(0)), node === "claim" ? 0.5 : 0.05);
    maybe("durationMs", () => (this.chance(0.5) ? 60000 : this.hostile(0)), node === "claim" ? 0.5 : 0.05);
    if (node === "answer") {
      const real = rpcs.length > 0 && this.chance(0.5) ? rpcs[this.int(rpcs.length)].rpc : undefined;
      m.rpc = real !== undefined ? real : this.chance(0.5) ? { device: this.name(), id: this.hostile(0), method: "m", gateway: this.pick(["gw", "nope", this.hostile(0)]) } : this.hostile(1);
    }
    return m;
  }

  /** A topic id: mostly fine, often not an id at all. */
  topicId(): string {
    return this.pick(["1", "7", String(this.int(1e6)), "1e+300", "-1", "1.5", "abc", "", "99999999999999999999", "0x10", " 3"]);
  }

  /** What a hostile (or broken) platform publishes on `topic`. */
  downlink(topic: string): [string, string | Buffer] {
    const t = topic.endsWith("+") ? topic.slice(0, -1) + this.topicId() : topic;
    const raw = this.int(10);
    if (raw === 0) return [t, Buffer.from(Array.from({ length: this.int(40) }, () => this.int(256)))];
    if (raw === 1) return [t, this.pick(["", "{", "null", "[]", "\"x\"", "1e999", "{\"device\":", "{\"__proto__\":{\"x\":1}}"])];
    const json = (v: unknown): string => {
      try {
        return JSON.stringify(v) ?? "null";
      } catch {
        return "{}";
      }
    };
    const id = (): unknown => this.pick([1, 2, this.int(100), -1, 1.5, 1e300, "1", null, 2 ** 53]);
    const data = (): unknown => (this.chance(0.7) ? { v: this.int(10), s: "x" } : this.hostile(1));
    switch (topic) {
      case "v1/gateway/attributes":
        return [t, json(this.chance(0.8) ? { device: this.name(), data: this.chance(0.8) ? { limit: this.int(10), deleted: this.chance(0.2) ? this.hostile(0) : undefined } : data() } : this.hostile(2))];
      case "v1/gateway/attributes/response":
        return [t, json(this.chance(0.8) ? { id: id(), device: this.name(), ...(this.chance(0.5) ? { value: data() } : { values: data() }) } : this.hostile(2))];
      case "v1/gateway/rpc":
        return [t, json(this.chance(0.8) ? { device: this.name(), data: { id: id(), method: this.pick(["ping", "set", "", 5]), params: data() } } : this.hostile(2))];
      case "v1/devices/me/rpc/request/+": {
        const method = this.pick(["ping", "gateway_device_renamed", "gateway_device_deleted", "getSessionLimits", ""]);
        const params = method === "gateway_device_renamed" ? { [this.pick(Fuzz.DEVICES)]: this.name() } : method === "gateway_device_deleted" ? this.name() : data();
        return [t, json(this.chance(0.8) ? { method, params } : this.hostile(2))];
      }
      default:
        return [t, json(this.hostile(2))];
    }
  }
}

const INPUTS = ["tel", "out", "in", "dc", "answer", "claim"];

function flow(url: string): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", autoConnect: true },
    { id: "out", type: "attribute-out", gateway: "gw", device: "", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "in", type: "attribute-in", gateway: "gw", devices: "", updates: true, device: "device", deviceType: "msg", keys: "", scope: "shared", timeout: "1", fetchOnConnect: true, wires: [["got"]] },
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "profile", profileType: "msg", action: "connect", wires: [["connected"]] },
    { id: "rpc", type: "rpc-in", gateway: "gw", target: "both", devices: "", methods: "", autoAnswer: "", timeout: "5", wires: [["rpcs"]] },
    { id: "answer", type: "rpc-response", gateway: "", wires: [] },
    { id: "claim", type: "claim", gateway: "gw", device: "device", deviceType: "msg", secretKey: "", secretKeyType: "str", duration: "", durationType: "num" },
    { id: "got", type: "helper" },
    { id: "rpcs", type: "helper" },
    { id: "connected", type: "helper" },
    { id: "catch", type: "catch", scope: INPUTS, uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: INPUTS, uncaught: false, wires: [["completed"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    gatewayNode(url),
  ];
}

describe(`fuzz: every input node and every subscribed topic, seeded (FUZZ_SEED=${SEED})`, function () {
  this.timeout(120000);
  let emu: ThingsBoardEmulator;
  const crashes: unknown[] = [];
  const onCrash = (e: unknown): void => void crashes.push(e);

  before(async () => {
    console.log(`      fuzz seed ${SEED} (FUZZ_SEED=${SEED} reproduces this run)`);
    process.on("unhandledRejection", onCrash);
    process.on("uncaughtException", onCrash);
    emu = await ThingsBoardEmulator.start({ rpcTimeoutMs: 3000 });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  after(async () => {
    process.off("unhandledRejection", onCrash);
    process.off("uncaughtException", onCrash);
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("survives: 0 crashes, every msg ended once, nothing malformed on the wire, and the session still works", async () => {
    const f = new Fuzz(rng(SEED));
    await load(flow(emu.url));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    for (const d of Fuzz.DEVICES) {
      const out = nextMsg("connected");
      helper.getNode("dc").receive({ device: d });
      await out;
    }
    const completed = collect("completed");
    const errors = collect("errors");
    const rpcs = collect("rpcs");
    const topics = ["v1/gateway/attributes", "v1/gateway/attributes/response", "v1/gateway/rpc", "v1/devices/me/rpc/request/+", "v1/devices/me/rpc/response/+"];
    const rounds = Math.max(MSGS_PER_NODE, DOWNLINKS_PER_TOPIC);
    let sent = 0;
    for (let i = 0; i < rounds; i++) {
      if (i < DOWNLINKS_PER_TOPIC) for (const topic of topics) emu.sendRaw(...f.downlink(topic)).should.be.true();
      if (i < MSGS_PER_NODE) {
        for (const node of INPUTS) {
          const m = f.msgFor(node, rpcs);
          m.fz = `${node}:${i}`;
          helper.getNode(node).receive(f.chance(0.1) ? Object.freeze(m) : m);
          sent++;
        }
      }
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1)); // let the wire and the broker breathe
    }
    const ended = (): number => completed.filter((m) => m.fz !== undefined).length + errors.filter((m) => m.fz !== undefined).length;
    await until(() => ended() >= sent, 20000, `all ${sent} msgs ended (${ended()} so far)`).catch((e: Error) => {
      const seen = new Set([...completed, ...errors].map((m) => m.fz));
      const missing = INPUTS.flatMap((n) => Array.from({ length: MSGS_PER_NODE }, (_, i) => `${n}:${i}`)).filter((t) => !seen.has(t));
      throw new Error(`${e.message}; first missing: ${missing.slice(0, 10).join(", ")} (seed ${SEED})`);
    });
    await new Promise((r) => setTimeout(r, 200)); // a second done would show up by now
    // msgs without a tag are the session's own (attribute-in's fetch on connect failing, say)
    const tags = [...completed, ...errors].filter((m) => m.fz !== undefined).map((m) => String(m.fz));
    const twice = tags.filter((t, i) => tags.indexOf(t) !== i);
    should(twice.slice(0, 10)).eql([], `some msgs ended twice (seed ${SEED})`);
    tags.length.should.equal(sent);
    for (const e of errors) String((e.error as { message?: unknown })?.message).should.match(/^(telemetry-out|attribute-out|attribute-in|device-connect|rpc-response|claim): /);
    crashes.should.be.empty();

    // what reached the wire followed the rules: nothing refused, skipped or closed for
    const refused = emu.journal().filter((j) => j.kind === "refused");
    should(refused.slice(0, 5)).eql([], `the emulator refused publishes (seed ${SEED})`);
    emu.closedReasons().should.eql([]);
    emu.gatewayConnections().should.equal(1);

    // the same session still delivers telemetry and answers RPCs
    const before = completed.length;
    helper.getNode("tel").receive({ device: "After", payload: { ok: 1 } });
    await until(() => completed.length > before, 5000, "telemetry after the fuzz");
    emu.telemetry("After").map((p) => p.values).should.eql([{ ok: 1 }]);
    const rpc = nextMsg("rpcs");
    const answer = emu.callRpc("After", "ping", { n: 1 }, 3000);
    const msg = await rpc;
    helper.getNode("answer").receive({ ...msg, payload: { pong: true } });
    should(await answer).eql({ pong: true });
    console.log(`      ${sent} msgs (${completed.length} done, ${errors.length} done(err)), ${DOWNLINKS_PER_TOPIC * topics.length} downlinks, ${emu.counters.publishes} publishes accepted`);
  });
});
