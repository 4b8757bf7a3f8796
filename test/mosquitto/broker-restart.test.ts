// Telemetry through a real mosquitto that is stopped and started again while msgs keep coming:
// the gateway must lose nothing it was given (at least once, in order per device), and every
// msg's done() must fire, without error. A separate subscriber (fixed client id, clean=false,
// QoS 1) keeps its queue on the broker across the restart and counts what arrived.
import * as fs from "fs";
import mqtt, { type MqttClient } from "mqtt";
import "should";
import { requirePeer } from "../support/peers";
import { collect, gatewayNode, helper, load, until, type FlowNode } from "../support/red";
import { Mosquitto, mosquittoAvailable } from "./broker";

const DEVICES = 4;
const MSGS = 2000; // over ~2 s, 10 every 10 ms
const T0 = 1700000000000;

interface Received {
  client: MqttClient;
  /** Every seq that arrived, per device, in arrival order (duplicates included). */
  seqs: Map<string, number[]>;
  /** Points whose ts is not the one their msg carried. */
  wrongTs: string[];
  count(): number;
}

async function subscriber(url: string, clientId: string): Promise<Received> {
  const seqs = new Map<string, number[]>();
  const wrongTs: string[] = [];
  const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 100, connectTimeout: 5000, protocolVersion: 4 });
  client.on("error", () => undefined); // refused while the broker is down: it retries
  client.on("message", (_topic, payload) => {
    const body = JSON.parse(payload.toString()) as Record<string, Array<{ ts: number; values: { seq: number } }>>;
    for (const [device, points] of Object.entries(body)) {
      const list = seqs.get(device) ?? [];
      seqs.set(device, list);
      for (const p of points) {
        if (p.ts !== T0 + p.values.seq) wrongTs.push(`${device}#${p.values.seq} at ${p.ts}`); // the msg's own timestamp, unchanged
        list.push(p.values.seq);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    setTimeout(() => reject(new Error("subscriber did not connect")), 5000).unref();
  });
  await client.subscribeAsync("v1/gateway/telemetry", { qos: 1 });
  return { client, seqs, wrongTs, count: () => [...seqs.values()].reduce((n, l) => n + l.length, 0) };
}

function flow(url: string): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true },
    { id: "catch", type: "catch", scope: ["tel"], uncaught: false, wires: [["errors"]] },
    { id: "complete", type: "complete", scope: ["tel"], uncaught: false, wires: [["completed"]] },
    { id: "status", type: "status", scope: ["tel"], wires: [["statuses"]] },
    { id: "errors", type: "helper" },
    { id: "completed", type: "helper" },
    { id: "statuses", type: "helper" },
    gatewayNode(url, { reconnectMin: 0.2, reconnectMax: 1 }),
  ];
}

interface Outage {
  sent: () => number;
  completed: Array<Record<string, unknown>>;
  statuses: Array<Record<string, unknown>>;
}

const key = (device: string, seq: number): string => `${device}#${seq}`;

/** Seqs in the order they first arrived, per device (later duplicates dropped). */
function firstSeen(seqs: number[]): number[] {
  const seen = new Set<number>();
  return seqs.filter((s) => !seen.has(s) && seen.add(s));
}

describe("telemetry-out across a mosquitto restart", function () {
  this.timeout(60000);
  let broker: Mosquitto | undefined;
  let sub: Received | undefined;

  before(function () {
    requirePeer("mosquitto", mosquittoAvailable(), this);
  });

  beforeEach(async () => {
    broker = await Mosquitto.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    if (sub) await new Promise<void>((r) => sub!.client.end(true, {}, () => r()));
    sub = undefined;
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await broker?.dispose();
    broker = undefined;
  });

  /**
   * Pushes MSGS msgs into telemetry-out while `outage` stops and restarts the broker; resolves
   * once every msg is done (or failed) and the subscriber holds everything it is owed.
   */
  async function run(outage: (ctx: Outage) => Promise<void>, beforePushing?: () => Promise<void>) {
    const b = broker!;
    sub = await subscriber(b.url, `restart-sub-${process.pid}-${Math.random().toString(16).slice(2)}`);
    await load(flow(b.url));
    const errors = collect("errors");
    const completed = collect("completed");
    const statuses = collect("statuses");
    const gw = helper.getNode("gw") as unknown as { session(): { connected: boolean } };
    await until(() => gw.session().connected, 10000, "gateway connected to mosquitto");
    const tel = helper.getNode("tel");
    if (beforePushing) await beforePushing();

    let sent = 0;
    let stop = false;
    const next = new Array<number>(DEVICES).fill(0);
    const pushing = (async () => {
      while (sent < MSGS && !stop) {
        for (let i = 0; i < 10 && sent < MSGS; i++, sent++) {
          const d = sent % DEVICES;
          const seq = next[d]++;
          tel.receive({ device: `dev-${d}`, ts: T0 + seq, payload: { seq } });
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await outage({ sent: () => sent, completed, statuses });
    } catch (err) {
      stop = true; // no msgs into a flow that is about to be unloaded
      await pushing;
      throw err;
    }
    await pushing;
    await until(() => completed.length + errors.length >= MSGS, 30000, `all ${MSGS} msgs done (${completed.length} done, ${errors.length} failed)`);
    return { errors, completed, statuses, perDevice: MSGS / DEVICES };
  }

  function statusesAfter(statuses: Array<Record<string, unknown>>, from: number): string[] {
    return statuses.slice(from).map((m) => (m.status as { fill: string }).fill);
  }

  it("delivers every msg at least once, in order per device, when the broker is stopped (SIGTERM) and restarted", async () => {
    let downSent = 0;
    let statusAtKill = 0;
    let unackedAtKill = 0;
    const r = await run(async ({ sent, statuses, completed }) => {
      await until(() => sent() >= 700, 10000, "700 msgs sent");
      statusAtKill = statuses.length;
      // A broker busy elsewhere: what the gateway publishes now stays unacknowledged (in flight).
      broker!.freeze();
      const atFreeze = sent();
      await until(() => sent() >= atFreeze + 200, 10000, "200 msgs sent to the frozen broker");
      unackedAtKill = sent() - completed.length;
      await broker!.stop("SIGTERM");
      const atStop = sent();
      // Down for a while: msgs keep coming and wait in the gateway's outbox.
      await until(() => sent() >= atStop + 200, 10000, "200 msgs sent while the broker is down");
      downSent = sent() - atStop;
      await broker!.restart();
    });
    r.errors.map((m) => (m.error as { message: string }).message).should.eql([]);
    r.completed.should.have.length(MSGS);
    new Set(r.completed.map((m) => key(m.device as string, (m.payload as { seq: number }).seq))).size.should.equal(MSGS); // each msg done once
    unackedAtKill.should.be.aboveOrEqual(200); // the premise: msgs were in flight or queued when the broker went
    downSent.should.be.aboveOrEqual(200);
    // The gateway did see the outage, and came back.
    const fills = statusesAfter(r.statuses, statusAtKill);
    fills.should.containEql("red");
    fills.indexOf("green", fills.indexOf("red")).should.be.above(-1);

    await until(() => [...Array(DEVICES).keys()].every((d) => new Set(sub!.seqs.get(`dev-${d}`) ?? []).size === r.perDevice), 20000, "every seq at the subscriber");
    for (let d = 0; d < DEVICES; d++) {
      firstSeen(sub!.seqs.get(`dev-${d}`)!).should.eql([...Array(r.perDevice).keys()], `dev-${d}: missing or out of order`);
    }
    sub!.count().should.be.aboveOrEqual(MSGS);
    sub!.wrongTs.should.eql([]);
  });

  it("re-sends, after a crash (SIGKILL) and restart, every msg the dead broker had not acknowledged", async () => {
    // SIGKILL loses what mosquitto held only in memory (what it acknowledged after its last
    // autosave): that is the broker's loss. Ours is everything not yet acknowledged when it died.
    let ackedBeforeDeath = new Set<string>();
    const afterFreeze: string[] = []; // msgs given after the freeze: the old broker cannot have acknowledged them
    // The restarted broker must know the subscriber: wait for an autosave that has its session.
    const autosaved = async (): Promise<void> => {
      const subscribedAt = Date.now();
      const db = `${broker!.dir}/mosquitto.db`;
      await until(() => fs.existsSync(db) && fs.statSync(db).mtimeMs > subscribedAt + 50, 5000, "an autosave after the subscription");
    };
    const r = await run(async ({ sent, statuses, completed }) => {
      await until(() => sent() >= 700, 10000, "700 msgs sent");
      const before = statuses.length;
      broker!.freeze();
      const atFreeze = sent();
      await until(() => sent() >= atFreeze + 200, 10000, "200 msgs sent to the frozen broker");
      await broker!.stop("SIGKILL");
      for (let i = atFreeze; i < sent(); i++) afterFreeze.push(key(`dev-${i % DEVICES}`, Math.floor(i / DEVICES)));
      // Once the gateway has seen the connection close, no acknowledgement from the dead broker can still arrive.
      await until(() => statusesAfter(statuses, before).includes("red"), 5000, "the gateway noticed the crash");
      ackedBeforeDeath = new Set(completed.map((m) => key(m.device as string, (m.payload as { seq: number }).seq)));
      const atStop = sent();
      await until(() => sent() >= atStop + 200, 10000, "200 msgs sent while the broker is down");
      await broker!.restart();
    }, autosaved);
    r.errors.map((m) => (m.error as { message: string }).message).should.eql([]);
    r.completed.should.have.length(MSGS);
    ackedBeforeDeath.size.should.be.above(0);
    afterFreeze.length.should.be.aboveOrEqual(200);
    const early = afterFreeze.filter((k) => ackedBeforeDeath.has(k));
    early.should.have.length(0, `done before any broker acknowledged them: ${early.slice(0, 5).join(", ")}…`);

    const owed = (d: number): number[] => [...Array(r.perDevice).keys()].filter((s) => !ackedBeforeDeath.has(key(`dev-${d}`, s)));
    await until(() => [...Array(DEVICES).keys()].every((d) => owed(d).every((s) => (sub!.seqs.get(`dev-${d}`) ?? []).includes(s))), 20000, "every msg not acknowledged before the crash at the subscriber");
    for (let d = 0; d < DEVICES; d++) {
      const order = firstSeen(sub!.seqs.get(`dev-${d}`)!);
      order.should.eql([...order].sort((a, b) => a - b), `dev-${d}: out of order`);
    }
    sub!.wrongTs.should.eql([]);
  });
});
