import should from "should";
import { DeviceRegistry } from "../../lib/session/registry";

describe("DeviceRegistry: devices and the platform's renames", () => {
  it("holds only devices and profiles that validate", () => {
    const r = new DeviceRegistry();
    r.add("A", {} as unknown as string).should.be.false();
    r.add("A", [] as unknown as string).should.be.false();
    r.add("A", BigInt(1) as unknown as string).should.be.false();
    r.add("A", "").should.be.false();
    r.add("", "P").should.be.false();
    r.add("x".repeat(256)).should.be.false();
    r.size.should.equal(0);
    r.add("A", "P").should.be.true();
    r.add("A").should.be.false(); // known, profile kept
    r.get("A")!.should.eql({ name: "A", profile: "P" });
  });

  it("follows chains of renames, a rename back, and forgets the names of a deleted device", () => {
    const r = new DeviceRegistry();
    r.add("A");
    r.rename("A", "A1");
    r.rename("A1", "A2");
    r.current("A").should.equal("A2");
    r.current("A1").should.equal("A2");
    r.current("B").should.equal("B");
    [...r.all()].map((d) => d.name).should.eql(["A2"]);
    r.rename("A2", "A"); // back to its first name: "A" is the device's name again
    r.current("A").should.equal("A");
    r.current("A2").should.equal("A");
    r.deleted("A");
    r.snapshot().should.eql({ devices: [], renames: [] });
  });

  it("ignores renames to or from a name the gateway could not send", () => {
    const r = new DeviceRegistry();
    r.add("A");
    r.rename("A", "").should.be.false();
    r.rename("A", "x".repeat(256)).should.be.false();
    r.rename("", "B").should.be.false();
    r.current("A").should.equal("A");
  });

  it("round-trips through JSON, and restore leaves out what does not validate", () => {
    const r = new DeviceRegistry();
    r.add("A", "P");
    r.add("B");
    r.rename("A", "A2");
    const json = JSON.parse(JSON.stringify(r.snapshot()));
    const copy = new DeviceRegistry();
    copy.restore({ ...json, devices: [...json.devices, { name: "", profile: "P" }, { name: "C", profile: {} }, null, 5], renames: [...json.renames, ["X", ""], "junk", ["Y", "Y"]] });
    copy.snapshot().should.eql(r.snapshot());
    copy.current("A").should.equal("A2");
    copy.restore(undefined);
    copy.restore({ devices: "nope" as unknown as [], renames: {} as unknown as [] });
    copy.snapshot().should.eql(r.snapshot());
  });

  it("says when it changed, so that a store can write it", () => {
    const r = new DeviceRegistry();
    let n = 0;
    r.on("changed", () => n++);
    r.add("A");
    r.add("A");
    r.add("A", {} as unknown as string);
    n.should.equal(1);
    r.rename("A", "A2");
    r.rename("A2", "");
    n.should.equal(2);
    r.remove("nope").should.be.false();
    r.remove("A2").should.be.true();
    n.should.equal(3);
    should(r.get("A2")).be.undefined();
  });
});
