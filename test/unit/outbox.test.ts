import should from "should";
import { thingsboard } from "../../lib/dialect/thingsboard";
import { Outbox, PublishRefused, type Transport } from "../../lib/outbox/outbox";
import type { Uplink } from "../../lib/records";

/** A transport whose PUBACKs the test releases by hand. */
class ManualTransport implements Transport {
  sent: Array<{ topic: string; body: Record<string, unknown>; ack: () => void; fail: (e: Error) => void }> = [];
  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((ack, fail) => this.sent.push({ topic, body: JSON.parse(payload.toString()), ack, fail }));
  }
}

const tel = (device: string, n: number): Uplink => ({ kind: "telemetry", device, points: [{ ts: n, values: { n } }] });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("Outbox", () => {
  it("batches uplinks from many devices within the window into one publish and settles each on its PUBACK", async () => {
    const box = new Outbox(thingsboard, { batchWindowMs: 5 });
    const t = new ManualTransport();
    box.attach(t);
    let done = 0;
    const all = [tel("A", 1), tel("B", 2), tel("A", 3)].map((u) => box.send(u).then(() => done++));
    await tick(20);
    t.sent.should.have.length(1);
    done.should.equal(0);
    t.sent[0].ack();
    await Promise.all(all);
    done.should.equal(3);
  });

  it("holds uplinks while detached and sends them in order, after the given announcements, when attached", async () => {
    const box = new Outbox(thingsboard, { batchWindowMs: 1, maxBatch: 2 });
    const p = [1, 2, 3, 4, 5].map((n) => box.send(tel("A", n)));
    box.queued.should.equal(5);
    const t = new ManualTransport();
    box.attach(t, [{ kind: "connect", device: "A" }]);
    await tick();
    t.sent[0].topic.should.equal("v1/gateway/connect");
    for (let i = 0; i < 10 && t.sent.some((s) => s); i++) {
      t.sent.forEach((s) => s.ack());
      await tick();
    }
    await Promise.all(p);
    const ns = t.sent.filter((s) => s.topic === "v1/gateway/telemetry").flatMap((s) => (s.body.A as Array<{ values: { n: number } }>).map((x) => x.values.n));
    ns.should.eql([1, 2, 3, 4, 5]);
  });

  it("puts unacknowledged uplinks back at the head, in order, when the connection drops", async () => {
    const box = new Outbox(thingsboard, { batchWindowMs: 1, maxBatch: 1, maxInflight: 2 });
    const t1 = new ManualTransport();
    box.attach(t1);
    const p = [1, 2, 3].map((n) => box.send(tel("A", n)));
    await tick();
    t1.sent.should.have.length(2); // in-flight window
    box.detach();
    t1.sent[0].ack(); // a late PUBACK from the old connection changes nothing
    const t2 = new ManualTransport();
    box.attach(t2);
    for (let i = 0; i < 6; i++) {
      t2.sent.forEach((s) => s.ack());
      await tick();
    }
    await Promise.all(p);
    t2.sent.map((s) => (s.body.A as Array<{ values: { n: number } }>)[0].values.n).should.eql([1, 2, 3]);
  });

  it("rejects, with the server's reason, only the uplinks of a refused publish", async () => {
    const box = new Outbox(thingsboard, { batchWindowMs: 1, maxBatch: 1 });
    const t = new ManualTransport();
    box.attach(t);
    const a = should(box.send(tel("A", 1))).be.rejectedWith(/server refused it: Publish error: Payload format invalid/);
    const b = box.send(tel("B", 2));
    await tick();
    t.sent[0].fail(new PublishRefused("Publish error: Payload format invalid", 0x99));
    await tick();
    t.sent[1].ack();
    await a;
    await b;
  });

  it("refuses new uplinks past its bound with a catchable error, keeping what it accepted", async () => {
    const box = new Outbox(thingsboard, { maxQueued: 3 });
    const accepted = [1, 2, 3].map((n) => box.send(tel("A", n)));
    await should(box.send(tel("A", 4))).be.rejectedWith(/outbox full: 3 messages are waiting/);
    box.queued.should.equal(3);
    const t = new ManualTransport();
    box.attach(t);
    await tick(30);
    t.sent.forEach((s) => s.ack());
    await Promise.all(accepted);
  });

  it("drops the oldest, with an error on it, under the drop-oldest policy", async () => {
    const box = new Outbox(thingsboard, { maxQueued: 2, overflow: "drop-oldest" });
    const first = box.send(tel("A", 1));
    box.send(tel("A", 2)).catch(() => undefined);
    box.send(tel("A", 3)).catch(() => undefined);
    await should(first).be.rejectedWith(/the oldest was dropped/);
    box.queued.should.equal(2);
    box.close();
  });

  it("rejects invalid uplinks at once without queueing them", async () => {
    const box = new Outbox(thingsboard);
    await should(box.send({ kind: "telemetry", device: "A", points: [{ values: { t: NaN } }] })).be.rejectedWith(/finite number/);
    box.queued.should.equal(0);
  });
});
