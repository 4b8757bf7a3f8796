// The Watson emulator's device management side, met by a raw MQTT client (no engine code): what
// the platform answers is what the managed-gateway tests then rely on.
import should from "should";
import { connect, publish, type Client } from "../emulator/mqtt-client";
import { WatsonEmulator } from "../../emulator/watson";

const auth = { clientId: "g:abc123:gateway-type:gateway-1", username: "use-token-auth", password: "GATEWAY_TOKEN" };
const DM = (type: string, id: string, op: string): string => `iotdevice-1/type/${type}/id/${id}/${op}`;

describe("Watson IoT emulator: device management", () => {
  let emu: WatsonEmulator;
  let c: Client;
  let answers: Array<{ topic: string; body: Record<string, unknown> }>;

  beforeEach(async () => {
    emu = await WatsonEmulator.start();
    c = await connect(emu.url, auth);
    answers = [];
    c.on("message", (topic, p) => answers.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> }));
    await new Promise<void>((r, j) => c.subscribe("iotdm-1/type/+/id/+/#", { qos: 1 }, (err) => (err ? j(err) : r())));
  });

  afterEach(async () => {
    c.end(true);
    await emu.stop();
  });

  async function ask(topic: string, body: unknown): Promise<Record<string, unknown>> {
    const reqId = (body as { reqId?: string }).reqId;
    await publish(c, topic, body);
    const a = await emu.waitFor(() => answers.find((x) => x.body.reqId === reqId), 3000, `the answer to ${reqId}`);
    return a.body;
  }

  it("answers manage 200 and tracks lifetime, supports, deviceInfo and metadata; a device whose lifetime ran out is dormant", async () => {
    (await ask(DM("sensor", "s1", "mgmt/manage"), { d: { lifetime: 3600, supports: { deviceActions: true }, deviceInfo: { model: "m" }, metadata: { a: 1 } }, reqId: "1" })).should.eql({ rc: 200, reqId: "1" });
    answers[0].topic.should.equal("iotdm-1/type/sensor/id/s1/response");
    emu.managed("sensor", "s1")!.should.match({ lifetime: 3600, supports: { deviceActions: true, firmwareActions: false }, deviceInfo: { model: "m" }, metadata: { a: 1 }, manages: 1 });
    emu.registered("sensor", "s1").should.be.true(); // registered by its manage
    emu.dormant("sensor", "s1").should.be.false();
    emu.dormant("sensor", "s1", Date.now() + 3601 * 1000).should.be.true();
    (await ask(DM("sensor", "s1", "mgmt/manage"), { d: { lifetime: 0 }, reqId: "2" })).rc!.should.equal(200);
    emu.managed("sensor", "s1")!.should.match({ lifetime: 0, deviceInfo: { model: "m" }, metadata: { a: 1 }, manages: 2 }); // kept when a manage omits them
    emu.dormant("sensor", "s1", Date.now() + 1e9).should.be.false(); // 0: never dormant
  });

  it("answers 400 for a malformed request and 404 for a device that is not managed", async () => {
    (await ask(DM("sensor", "s1", "mgmt/manage"), { d: { lifetime: 60 }, reqId: "a" })).should.match({ rc: 400, message: /at least 3600/ });
    (await ask(DM("sensor", "s1", "mgmt/manage"), { d: { supports: { deviceActions: "yes" } }, reqId: "b" })).rc!.should.equal(400);
    (await ask(DM("sensor", "s1", "mgmt/unmanage"), { reqId: "c" })).should.match({ rc: 404 });
    (await ask(DM("sensor", "s1", "device/update/location"), { d: { latitude: 1, longitude: 2 }, reqId: "d" })).rc!.should.equal(404);
    await ask(DM("sensor", "s1", "mgmt/manage"), { d: { lifetime: 3600 }, reqId: "e" });
    (await ask(DM("sensor", "s1", "device/update/location"), { d: { latitude: "n" }, reqId: "f" })).rc!.should.equal(400);
    (await ask(DM("sensor", "s1", "add/diag/errorCodes"), { d: { errorCode: 1.5 }, reqId: "g" })).rc!.should.equal(400);
    (await ask(DM("sensor", "s1", "add/diag/log"), { d: { message: "m", severity: 5 }, reqId: "h" })).rc!.should.equal(400);
    (await ask(DM("sensor", "s1", "mgmt/unmanage"), { reqId: "i" })).rc!.should.equal(200);
    should(emu.managed("sensor", "s1")).be.undefined();
  });

  it("initiates a device action on a managed device that supports them and records the gateway's answer; refuses one on others", async () => {
    await ask(DM("sensor", "s1", "mgmt/manage"), { d: { lifetime: 3600, supports: { deviceActions: true } }, reqId: "m" });
    await ask(DM("sensor", "s2", "mgmt/manage"), { d: { lifetime: 3600, supports: { deviceActions: false } }, reqId: "n" });
    (() => emu.initiate("sensor", "s2", "reboot")).should.throw(/does not support device actions/);
    (() => emu.initiate("sensor", "s3", "reboot")).should.throw(/not a managed device/);
    const reqId = emu.initiate("sensor", "s1", "factory_reset");
    const req = await emu.waitFor(() => answers.find((a) => a.topic.endsWith("/mgmt/initiate/device/factory_reset")), 3000, "the request");
    req.topic.should.equal("iotdm-1/type/sensor/id/s1/mgmt/initiate/device/factory_reset");
    req.body.should.eql({ reqId });
    await publish(c, DM("sensor", "s1", "response"), { rc: 202, reqId });
    (await emu.waitFor(() => emu.actionResponse(reqId), 3000, "the recorded answer")).should.match({ rc: 202 });
    await publish(c, DM("sensor", "s1", "response"), { rc: 202, reqId }); // a second answer to the same request
    await emu.waitFor(() => emu.violations().length > 0, 3000, "the violation");
    emu.violations()[0].should.match(/to no open request/);
  });

  it("refuses a request without a reqId (it cannot be answered) and a device management topic it does not know", async () => {
    await publish(c, DM("sensor", "s1", "mgmt/manage"), { d: { lifetime: 3600 } });
    await emu.waitFor(() => emu.violations().length > 0, 3000, "the violation");
    emu.violations()[0].should.match(/has no reqId/);
    await publish(c, DM("sensor", "s1", "mgmt/whatever"), { reqId: "x" });
    await emu.waitFor(() => emu.notifications().length > 0, 3000, "the notification");
    emu.notifications()[0].should.match({ Request: "publish", Topic: DM("sensor", "s1", "mgmt/whatever"), RC: 403 });
  });
});
