import 'should';
import { ThingsBoardEmulator, type SessionLimitsPatch } from '../../emulator/thingsboard';
import { Client, closed, end, gateway, publish } from './mqtt-client';

type CodedError = Error & { code?: number };

/** PUBACK reason code (0 on MQTT 3.1.1 and for success), -1 when the connection went first. */
function publishCode(c: Client, topic: string, payload: unknown): Promise<number> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return new Promise((resolve) => c.publish(topic, body, { qos: 1 }, (err) => resolve(err ? ((err as CodedError).code ?? -1) : 0)));
}

/** One device's telemetry with `points` key-value pairs in one element. */
function points(device: string, n: number): Record<string, unknown> {
  const values: Record<string, number> = {};
  for (let i = 0; i < n; i++) values[`k${i}`] = i;
  return { [device]: [{ ts: 1700000000000, values }] };
}

const NO_LIMIT = { messages: '', telemetryMessages: '', telemetryDataPoints: '' };

describe('ThingsBoard emulator: rate limits as the server counts and enforces them', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;

  async function start(gatewayRateLimits: SessionLimitsPatch['gatewayRateLimits'], version: 4 | 5 = 4, rateLimits: SessionLimitsPatch['rateLimits'] = NO_LIMIT): Promise<void> {
    emu = await ThingsBoardEmulator.start({ sessionLimits: { gatewayRateLimits: { ...NO_LIMIT, ...gatewayRateLimits }, rateLimits } });
    c = await gateway(emu.url, 'GATEWAY_TOKEN', { protocolVersion: version });
  }

  afterEach(async () => {
    await end(c);
    c = undefined;
    await emu.stop();
  });

  it('counts telemetry data points over every device of the gateway as one bucket, and closes after a plain PUBACK on MQTT 3.1.1', async () => {
    await start({ telemetryDataPoints: '200:1' });
    (await publishCode(c!, 'v1/gateway/telemetry', points('A', 150))).should.equal(0);
    const gone = closed(c!);
    // 3.1.1 PUBACKs carry no reason code: the refusal looks like success, then the connection goes
    (await publishCode(c!, 'v1/gateway/telemetry', points('B', 100))).should.equal(0);
    await gone;
    emu.telemetry('A').should.have.length(1);
    emu.telemetry('B').should.be.empty();
    emu.closedReasons()[0].should.match(/rate limit: gatewayRateLimits.telemetryDataPoints "200:1" exceeded by "B"/);
  });

  it('answers PUBACK 0x97 (quota exceeded) and closes on MQTT 5', async () => {
    await start({ telemetryDataPoints: '200:1' }, 5);
    const gone = closed(c!);
    (await publishCode(c!, 'v1/gateway/telemetry', points('A', 201))).should.equal(0x97);
    await gone;
    emu.telemetry('A').should.be.empty();
  });

  it('counts one telemetry message per device of a publish, and keeps what came before the refused device', async () => {
    await start({ telemetryMessages: '3:1' });
    const gone = closed(c!);
    await publishCode(c!, 'v1/gateway/telemetry', { A: [{ t: 1 }], B: [{ t: 2 }], C: [{ t: 3 }], D: [{ t: 4 }] });
    await gone;
    ['A', 'B', 'C', 'D'].map((d) => emu.telemetry(d).length).should.eql([1, 1, 1, 0]);
  });

  it('counts attributes as telemetry (their keys are data points) and other messages in "messages" only', async () => {
    await start({ messages: '2:1', telemetryDataPoints: '5:1' });
    for (let i = 0; i < 5; i++) await publish(c!, 'v1/gateway/telemetry', { A: [{ t: i }] });
    await publish(c!, 'v1/gateway/rpc', { device: 'A', id: 1, data: {} });
    await publish(c!, 'v1/gateway/attributes/request', { id: 1, device: 'A', client: true, key: 'k' });
    const gone = closed(c!);
    await publishCode(c!, 'v1/gateway/attributes', { A: { x: 1 } });
    await gone;
    emu.closedReasons()[0].should.match(/telemetryDataPoints "5:1" exceeded by "A" on v1\/gateway\/attributes/);
  });

  it('refuses a third message past "messages" 2:1', async () => {
    await start({ messages: '2:1' });
    await publish(c!, 'v1/gateway/claim', { A: { secretKey: 's' }, B: {} });
    const gone = closed(c!);
    await publishCode(c!, 'v1/gateway/rpc', { device: 'A', id: 1, data: {} });
    await gone;
    emu.closedReasons()[0].should.match(/gatewayRateLimits.messages "2:1" exceeded/);
  });

  it("charges the gateway's own v1/devices/me traffic to rateLimits, apart from its devices' bucket", async () => {
    await start({ messages: '100:1' }, 4, { ...NO_LIMIT, messages: '1:1' });
    await publish(c!, 'v1/devices/me/rpc/request/1', { method: 'getSessionLimits' });
    await publish(c!, 'v1/gateway/rpc', { device: 'A', id: 1, data: {} });
    const gone = closed(c!);
    await publishCode(c!, 'v1/devices/me/rpc/request/2', { method: 'getSessionLimits' });
    await gone;
    emu.closedReasons()[0].should.match(/rateLimits.messages "1:1" exceeded on v1\/devices\/me\/rpc\/request\/2/);
  });

  it('holds every capacity:seconds pair at once, refills greedily, and keeps the buckets over a reconnect', async () => {
    await start({ telemetryDataPoints: '100:1,150:10' });
    await publish(c!, 'v1/gateway/telemetry', points('A', 100));
    await new Promise((r) => setTimeout(r, 1100));
    // the 1 s pair is full again, the 10 s pair has 50 + ~16 left
    await publish(c!, 'v1/gateway/telemetry', points('A', 60));
    await end(c);
    c = await gateway(emu.url);
    const gone = closed(c!);
    await publishCode(c!, 'v1/gateway/telemetry', points('A', 30));
    await gone;
    emu.closedReasons()[0].should.match(/"100:1,150:10" exceeded/);
    emu.telemetry('A').should.have.length(2);
  });

  it('closes a connection that keeps more than maxInflightMessages publishes waiting on a slow server', async () => {
    emu = await ThingsBoardEmulator.start({ sessionLimits: { maxInflightMessages: 5 } });
    emu.setAckDelay(100);
    c = await gateway(emu.url, 'GATEWAY_TOKEN', { protocolVersion: 5 });
    // five at a time: all acknowledged
    await Promise.all([1, 2, 3, 4, 5].map((t) => publish(c!, 'v1/gateway/telemetry', { A: [{ t }] })));
    emu.telemetry('A').should.have.length(5);
    const gone = closed(c!);
    for (let t = 6; t <= 12; t++) c!.publish('v1/gateway/telemetry', JSON.stringify({ A: [{ t }] }), { qos: 1 });
    await gone;
    emu.closedReasons()[0].should.match(/5 messages waiting to be processed: maxInflightMessages is 5/);
  });
});
