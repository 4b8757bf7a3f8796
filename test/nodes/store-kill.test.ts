// kill -9 of a real Node-RED process during an outage while a flow sends 500 msgs/s, then a
// restart on the same userDir and the server back: every msg that was done (stored) arrives,
// in order per device, with its device announced first (the device list beside the data).
import "should";
import { runKillScenario } from "../../bench/store-kill";

describe("disk store: kill -9 of Node-RED during an outage", function () {
  this.timeout(60000);

  it("delivers every stored msg after the restart, in order per device, none twice", async () => {
    const r = await runKillScenario({ rate: 500, devices: 10, outageMs: 3000, timeoutMs: 20000 });
    r.errors.should.eql([]);
    r.stored.should.be.above(1000); // about 3 s at 500 msgs/s were done before the kill
    r.lost.should.equal(0);
    r.delivered.should.equal(r.stored);
    r.outOfOrder.should.equal(0);
    r.duplicates.should.equal(0); // nothing was in flight during the outage
    r.announcedFirst.should.equal(r.devices);
  });
});
