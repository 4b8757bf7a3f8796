import should from "should";
import { ThingsBoardEmulator } from "../../emulator/thingsboard";
import { gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

describe("device-connect in a Node-RED runtime against the ThingsBoard emulator", function () {
  let emu: ThingsBoardEmulator;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start();
    await new Promise<void>((r) => helper.startServer(() => r()));
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await emu.stop();
  });

  const flow = (extra: Record<string, unknown> = {}): FlowNode[] => [
    { id: "dc", type: "device-connect", gateway: "gw", device: "device", deviceType: "msg", profile: "Chiller", profileType: "str", action: "connect", wires: [["out"]], ...extra },
    { id: "out", type: "helper" },
    { id: "catch", type: "catch", scope: ["dc"], uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper" },
    gatewayNode(emu.url),
  ];

  it("connects a device with the node's profile and passes the msg on after the server's acknowledgement", async () => {
    await load(flow());
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const out = nextMsg("out");
    helper.getNode("dc").receive({ device: "Chiller 1", payload: "anything" });
    const msg = await out;
    msg.should.have.properties({ device: "Chiller 1", payload: "anything" });
    should(emu.device("Chiller 1")).have.properties({ profile: "Chiller", connected: true });
  });

  it("disconnects a device on msg.action and stops announcing it after a reconnect", async () => {
    await load(flow({ profile: "" }));
    await until(() => emu.gatewayConnected(), 5000, "gateway connection");
    const dc = helper.getNode("dc");
    let out = nextMsg("out");
    dc.receive({ device: "Temp", profile: "Probe" });
    await out;
    out = nextMsg("out");
    dc.receive({ device: "Keep" });
    await out;
    out = nextMsg("out");
    dc.receive({ device: "Temp", action: "disconnect" });
    await out;
    should(emu.device("Temp")).have.property("connected", false);
    should(emu.device("Temp")).have.property("profile", "Probe"); // msg.profile, as the node's is empty
    emu.dropGateway();
    await until(() => emu.gatewayConnections() === 2 && emu.device("Keep")?.connected, 8000, "Keep re-announced");
    should(emu.device("Temp")).have.property("connected", false);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ["no device", { payload: 1 }, /device-connect: no device/],
    ["an unknown action", { device: "X", action: "reboot" }, /msg.action must be "connect" or "disconnect", got "reboot"/],
    ["a profile that is not a string", { device: "X", profile: 7 }, /device profile must be a non-empty string, got number/],
  ];
  for (const [what, msg, re] of invalid) {
    it(`answers ${what} with a catchable error and sends nothing`, async () => {
      await load(flow({ profile: "" }));
      await until(() => emu.gatewayConnected(), 5000, "gateway connection");
      const err = nextMsg("errors");
      helper.getNode("dc").receive(msg);
      should(((await err).error as { message: string }).message).match(re);
      emu.devices().should.be.empty();
    });
  }
});
