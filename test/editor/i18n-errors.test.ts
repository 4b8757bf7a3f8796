// Errors read as one sentence: a failed msg of telemetry-out and of rpc-response reaches a Catch
// node as the sentence itself (not "Error: …"), and Node-RED logs it as a string, which the debug
// sidebar shows as text (an Error object shows there as a collapsed object cut after 30
// characters). Against a real Node-RED runtime; the sidebar itself is checked in Chromium in
// i18n-editor.test.ts.
import should from "should";
import { gatewayNode, helper, load, nextMsg, until, type FlowNode } from "../support/red";

type Spy = { args: Array<[{ level: number; msg: unknown; id?: string }]>; ERROR: number };

function flow(withCatch: boolean): FlowNode[] {
  const catching: FlowNode[] = [
    { id: "catch", type: "catch", scope: ["to", "rr"], uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper" },
  ];
  return [
    ...(withCatch ? catching : []),
    gatewayNode("mqtt://127.0.0.1:1"),
    { id: "to", type: "telemetry-out", gateway: "gw", device: "device", deviceType: "msg", profile: "", profileType: "str", autoConnect: true, wires: [] },
    { id: "rr", type: "rpc-response", gateway: "gw", wires: [] },
  ];
}

const SENTENCES: Array<[string, Record<string, unknown>, RegExp]> = [
  ["to", { payload: { t: 1 } }, /^telemetry-out: no device: set one in the node or msg\.device, or send \{"Device A": \[\.\.\.\], "Device B": \[\.\.\.\]\} in msg\.payload$/],
  ["rr", { payload: 1 }, /^rpc-response: msg\.rpc is missing: answer the msg that came out of an rpc-in node\b[^\n]*$/],
];

describe("errors as one sentence (Catch node and log)", () => {
  beforeEach(() => new Promise<void>((r) => helper.startServer(() => r())));
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  for (const [id, msg, sentence] of SENTENCES) {
    it(`${id}: a Catch node gets the sentence itself as msg.error.message`, async () => {
      await load(flow(true));
      const caught = nextMsg("errors");
      helper.getNode(id).receive(msg);
      const error = (await caught).error as { message: unknown; source: { id: string } };
      should(error.source.id).equal(id);
      should(error.message).be.a.String().and.match(sentence);
    });

    it(`${id}: uncaught, the error is logged as that sentence, a string (what the debug sidebar is sent)`, async () => {
      await load(flow(false));
      const spy = helper.log() as unknown as Spy;
      helper.getNode(id).receive(msg);
      await until(() => spy.args.some((a) => a[0].level === spy.ERROR && a[0].id === id), 5000, `the error of ${id} logged`);
      const errors = spy.args.map((a) => a[0]).filter((e) => e.level === spy.ERROR && e.id === id);
      should(errors.map((e) => typeof e.msg)).eql(["string"]);
      should(errors[0].msg).match(sentence);
    });
  }
});
