// The sidebar's runtime feed in a real Node-RED runtime (test helper) against the emulator: it
// publishes nothing and leaves the session's msg path as it is while no editor is connected; with
// one connected it publishes each gateway's snapshot over comms (many devices: the most recent 50
// and the count of all; the error a node had, with the node), and stops again when it leaves.
import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import type { GatewayConfigNode } from "../../nodes/common/gateway-types";
import type { GatewayFeedSnapshot } from "../../nodes/common/sidebar-feed";
import { dialectFor } from "../../lib/dialect";
import { GatewaySession } from "../../lib/session/session";
import { DEVICES_SHOWN, SessionView } from "../../lib/session/snapshot";
import { gatewayNode, helper, load, until, type FlowNode } from "../support/red";

// the runtime's event bus, the one RED.comms.publish and the editor's connections speak on
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { events } = require("@node-red/util") as { events: NodeJS.EventEmitter };

function flow(url: string): FlowNode[] {
  return [
    { id: "tel", type: "telemetry-out", name: "meters", gateway: "gw", device: "device", deviceType: "msg", profile: "meter", profileType: "str", autoConnect: true },
    gatewayNode(url),
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the sidebar's runtime feed", function () {
  this.timeout(30000);
  let emu: ThingsBoardEmulator;
  const published: GatewayFeedSnapshot[] = [];
  const onComms = (e: { topic: string; data: GatewayFeedSnapshot }) => {
    if (e.topic === "iot-gateway/gateway/gw") published.push(e.data);
  };
  let editors = 0;

  beforeEach(async () => {
    published.length = 0;
    events.on("comms", onComms);
    emu = await ThingsBoardEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    for (; editors > 0; editors--) events.emit("comms:connection-removed", { session: `s${editors}` });
    events.off("comms", onComms);
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  it("costs nothing without an editor, then publishes live figures while one is connected", async () => {
    await load(flow(emu.url));
    const tel = helper.getNode("tel");
    const session = (helper.getNode("gw") as unknown as GatewayConfigNode).session();
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");

    // nobody watches: the msg path is the session's own, and nothing is published
    for (let i = 0; i < 3; i++) tel.receive({ device: "Meter 0", payload: { t: i } });
    await emu.waitFor(() => emu.telemetry("Meter 0").length === 3, 5000);
    await sleep(1200);
    should(session.watcher).be.undefined();
    should(published).eql([]);

    // an editor connects
    events.emit("comms:connection-added", { session: "s1" });
    editors++;
    should(session.watcher).not.be.undefined();
    for (let i = 1; i <= 60; i++) tel.receive({ device: `Meter ${i}`, payload: { t: i } });
    tel.receive({ device: "Meter 7", payload: { "": 1 } });
    const last = await until(() => {
      const s = published[published.length - 1];
      return s?.session?.devices.total === 61 && s.errors.length === 1 && s.session.devices.shown.some((d) => d.lastError) ? s : undefined;
    }, 5000, "a snapshot with 61 devices and an error");
    const s = last.session!;
    should(s.state).eql({ state: "connected" });
    should(s.devices.shown.length).equal(DEVICES_SHOWN);
    // the most recently active first: Meter 7 (its bad msg), then Meter 60, 59, …
    should(s.devices.shown[0]).match({ name: "Meter 7", profile: "meter", announced: true, lastError: { message: /empty key/ } });
    should(s.devices.shown.slice(1, 3).map((d) => d.name)).eql(["Meter 60", "Meter 59"]);
    should(s.devices.shown.every((d) => typeof d.lastUplinkAt === "number")).be.true();
    should(last.errors[0]).match({ level: "error", node: { id: "tel", name: "meters", type: "telemetry-out" }, message: /^telemetry-out: .*empty key/ });
    should(last).match({ id: "gw", platform: "thingsboard", server: emu.url, users: 1 });
    should(s.reconnects).equal(0);
    should(s.rpcs).eql({ open: 0, oldest: undefined });

    // the first paint's endpoint: the same snapshot
    const res = await helper.request().get("/gateway-config/sidebar").expect(200);
    const body = res.body as { gateways: Record<string, GatewayFeedSnapshot> };
    should(body.gateways.gw.session?.devices.total).equal(61);

    // publishes only on change, at most twice a second
    const n = published.length;
    await sleep(2100);
    should(published.length - n).be.belowOrEqual(5);

    // the editor leaves: the msg path is the session's own again, nothing more is published
    events.emit("comms:connection-removed", { session: "s1" });
    editors--;
    should(session.watcher).be.undefined();
    const after = published.length;
    await sleep(1200);
    should(published.length).equal(after);
  });
});

describe("the sidebar's session view", () => {
  it("gives rates per second over the last reads: in, out (less what waits or was lost), publishes and bytes", async () => {
    const session = new GatewaySession({ url: "mqtt://127.0.0.1:1", dialect: dialectFor("thingsboard"), credentials: { accessToken: "x" } });
    let waiting = 0;
    const view = new SessionView(session, () => ({ store: "memory", waiting, cap: {}, growthPerS: 0 }));
    const c = session.stats.counters;
    should(view.read(1000).rates).eql({ msgsIn: 0, pointsIn: 0, msgsOut: 0, publishesOut: 0, bytesOut: 0 });
    // two seconds later: 100 msgs of 3 points came, 10 wait, 2 were refused, 9 publishes of 4,000 bytes went
    c.msgsIn = 100;
    c.pointsIn = 300;
    waiting = 10;
    c.invalidMsgs = 2;
    c.publishesOut = 9;
    c.bytesOut = 4000;
    should(view.read(3000).rates).eql({ msgsIn: 50, pointsIn: 150, msgsOut: 44, publishesOut: 4.5, bytesOut: 2000 });
    view.close();
    await session.stop();
  });
});

describe("the sidebar's session view, since when", () => {
  it("counts a down session from when it was lost, not from its latest reconnect attempt", async () => {
    const session = new GatewaySession({ url: "mqtt://127.0.0.1:1", dialect: dialectFor("thingsboard"), credentials: { accessToken: "x" } });
    const view = new SessionView(session, () => undefined);
    const since = view.read().since;
    await new Promise((r) => setTimeout(r, 20));
    session.emit("state", { state: "connecting" });
    session.emit("state", { state: "disconnected", reason: "connection refused" });
    should(view.read().since).equal(since);
    session.emit("state", { state: "connected" });
    should(view.read().since).be.above(since);
    view.close();
    await session.stop();
  });
});
