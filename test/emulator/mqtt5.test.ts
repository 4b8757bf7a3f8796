import should from 'should';
import * as mqtt from 'mqtt';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { Client, closed, connect, end, gateway, Inbox, publish, subscribe } from './mqtt-client';
import { RawMqtt } from './raw-mqtt';

const V5: mqtt.IClientOptions = { protocolVersion: 5 };
const gateway5 = (url: string, token = 'GATEWAY_TOKEN', opts: mqtt.IClientOptions = {}) => gateway(url, token, { ...V5, ...opts });

type CodedError = Error & { code?: number };

/** The PUBACK reason code as mqtt.js reports it: 0 on success, else the error's code. */
function publishCode(c: Client, topic: string, payload: string, qos: 0 | 1 = 1): Promise<number> {
  return new Promise((resolve) => c.publish(topic, payload, { qos }, (err) => resolve(err ? ((err as CodedError).code ?? -1) : 0)));
}

/** Resolves with the server's DISCONNECT reason code, once the connection is also closed. */
function serverDisconnect(c: Client, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    let code: number | undefined;
    const timer = setTimeout(() => reject(new Error('no server DISCONNECT + close')), timeoutMs);
    c.once('disconnect', (p) => (code = p.reasonCode ?? 0));
    c.once('close', () => {
      clearTimeout(timer);
      if (code === undefined) reject(new Error('closed without a DISCONNECT packet'));
      else resolve(code);
    });
  });
}

describe('ThingsBoard emulator: MQTT 5', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;
  let c2: Client | undefined;
  let raw: RawMqtt | undefined;

  beforeEach(async () => {
    emu = await ThingsBoardEmulator.start({
      gateways: [
        { name: 'Gateway', token: 'GATEWAY_TOKEN' },
        { name: 'GW basic', basic: { clientId: 'gw-basic', username: 'alice', password: 's3cret' } },
      ],
    });
  });
  afterEach(async () => {
    raw?.destroy();
    raw = undefined;
    await end(c, c2);
    c = c2 = undefined;
    await emu.stop();
  });

  describe('CONNECT', () => {
    it('accepts MQTT 5 and MQTT 3.1.1 gateways on the same URL', async () => {
      emu.supportsMqtt5.should.be.true();
      c = await gateway5(emu.url);
      emu.gatewayProtocolVersion()!.should.equal(5);
      c2 = await connect(emu.url, { clientId: 'gw-basic', username: 'alice', password: 's3cret' });
      emu.gatewayProtocolVersion('GW basic')!.should.equal(4);
      emu.journal().filter((j) => j.kind === 'gatewayConnected').map((j) => (j.detail as { protocolVersion: number }).protocolVersion).should.eql([5, 4]);
    });

    const refusals: Array<[string, mqtt.IClientOptions, number]> = [
      ['0x86 bad username or password for an empty username', {}, 0x86],
      ['0x87 not authorised for an unknown access token', { username: 'NOT_A_TOKEN' }, 0x87],
      ['0x86 bad username or password for basic credentials with a wrong password', { clientId: 'gw-basic', username: 'alice', password: 'nope' }, 0x86],
      ['0x87 not authorised for basic credentials from another client id', { clientId: 'intruder', username: 'alice', password: 's3cret' }, 0x87],
    ];
    for (const [what, opts, code] of refusals) {
      it(`answers CONNACK ${what}`, async () => {
        const err = await connect(emu.url, { ...V5, ...opts }).then(() => null, (e: CodedError) => e);
        should(err).not.be.null();
        err!.code!.should.equal(code);
        const refused = emu.journal().filter((j) => j.kind === 'refused');
        refused.length.should.equal(1);
        (refused[0].detail as { reasonCode: number }).reasonCode.should.equal(code);
        emu.gatewayConnected().should.be.false();
      });
    }

    it('starts every connection clean: no session present, no subscriptions kept, even with cleanStart false', async () => {
      const opts = { clientId: 'gw-1', clean: false, properties: { sessionExpiryInterval: 3600 } };
      c = await gateway5(emu.url, 'GATEWAY_TOKEN', opts);
      await subscribe(c, 'v1/gateway/attributes');
      await publish(c, 'v1/gateway/connect', { device: 'A' });
      await end(c);
      c = undefined;
      await emu.waitFor(() => !emu.gatewayConnected());

      const connack = new Promise<mqtt.IConnackPacket>((resolve) => {
        const probe = mqtt.connect(emu.url, { ...V5, ...opts, username: 'GATEWAY_TOKEN', reconnectPeriod: 0, resubscribe: false });
        c2 = probe;
        probe.once('connect', resolve);
      });
      (await connack).sessionPresent.should.be.false();
      await publish(c2!, 'v1/gateway/connect', { device: 'A' });
      emu.setSharedAttributes('A', { x: 1 }).should.be.false(); // the subscription died with the old connection
    });

    it('closes the older connection with DISCONNECT 0x8E when the same client id connects again', async () => {
      c = await gateway5(emu.url, 'GATEWAY_TOKEN', { clientId: 'same' });
      const taken = serverDisconnect(c);
      c2 = await gateway5(emu.url, 'GATEWAY_TOKEN', { clientId: 'same' });
      (await taken).should.equal(0x8e);
      emu.gatewayConnections().should.equal(2);
      await emu.waitFor(() => emu.gatewayConnected() && emu.gateways()[0].connected);
    });
  });

  describe('SUBSCRIBE', () => {
    beforeEach(async () => {
      c = await gateway5(emu.url);
    });

    it('grants the exact API filters at QoS 1 at most', async () => {
      (await subscribe(c!, ['v1/gateway/attributes', 'v1/gateway/rpc', 'v1/gateway/attributes/response', 'v1/devices/me/rpc/request/+'], 2)).should.eql([1, 1, 1, 1]);
      (await subscribe(c!, 'v1/gateway/rpc', 0)).should.eql([0]);
    });

    it('refuses wildcards and unknown filters with reason code 0x8F (topic filter invalid), each journaled', async () => {
      (await subscribe(c!, ['v1/gateway/#', '#', 'v1/gateway/rpc/x', 'v1/gateway/rpc'])).should.eql([0x8f, 0x8f, 0x8f, 1]);
      emu.journal().filter((j) => j.kind === 'refused').length.should.equal(3);
      emu.gatewayConnected().should.be.true();
    });
  });

  describe('PUBLISH', () => {
    beforeEach(async () => {
      c = await gateway5(emu.url);
    });

    it('answers PUBACK 0x00 and has stored the data by then', async () => {
      (await publishCode(c!, 'v1/gateway/telemetry', JSON.stringify({ A: [{ ts: 1, values: { t: 1 } }] }))).should.equal(0);
      emu.telemetry('A').should.eql([{ ts: 1, values: { t: 1 }, serverTs: false }]);
    });

    const malformed: Array<[string, string, string]> = [
      ['telemetry with no array (the seed\'s "simplified format")', 'v1/gateway/telemetry', '{"A":{"t":1}}'],
      ['unparsable JSON', 'v1/gateway/telemetry', '{"A":[{"t":1}]'],
      ['a payload that is not an object', 'v1/gateway/attributes', '[1]'],
      ['a connect without device', 'v1/gateway/connect', '{"type":"x"}'],
      ['an attribute request without client', 'v1/gateway/attributes/request', '{"id":1,"device":"A","key":"k"}'],
      ['an rpc reply without id', 'v1/gateway/rpc', '{"device":"A","data":{}}'],
    ];
    for (const [what, topic, payload] of malformed) {
      it(`answers ${what} with PUBACK 0x99 and keeps the connection`, async () => {
        await publish(c!, 'v1/gateway/connect', { device: 'A' });
        const err = await publish(c!, topic, payload).then(() => null, (e: CodedError) => e);
        should(err).not.be.null();
        err!.code!.should.equal(0x99);
        // Still the same session: nothing closed, the device stays registered, the next publish works.
        emu.gatewayConnected().should.be.true();
        emu.gatewayConnections().should.equal(1);
        emu.closedReasons().should.be.empty();
        emu.device('A')!.connected.should.be.true();
        await publish(c!, 'v1/gateway/telemetry', { A: [{ ok: 1 }] });
        emu.telemetry('A').map((p) => p.values).should.eql([{ ok: 1 }]);
        emu.journal().some((j) => j.kind === 'refused' && String((j.detail as { reason: string }).reason).startsWith('malformed')).should.be.true();
      });
    }

    it('closes on a malformed QoS 0 publish (no PUBACK can carry the reason)', async () => {
      const gone = serverDisconnect(c!);
      c!.publish('v1/gateway/telemetry', '{"A":{"t":1}}', { qos: 0 });
      (await gone).should.equal(0x99);
      await emu.waitFor(() => !emu.gatewayConnected());
      emu.closedReasons()[0].should.startWith('Gateway: malformed');
    });

    it('answers PUBACK 0x90 (topic name invalid) on an unknown topic and keeps the connection', async () => {
      (await publishCode(c!, 'v1/something/else', '{}')).should.equal(0x90);
      emu.gatewayConnected().should.be.true();
    });

    it('accepts a packet of exactly the max remaining length and answers one byte more with DISCONNECT 0x95 (packet too large) and a close', async () => {
      const body = (n: number) => {
        const head = '{"A":[{"s":"';
        const tail = '"}]}';
        return head + 'x'.repeat(n - head.length - tail.length) + tail;
      };
      // remaining length on MQTT 5 = topic (2 + 20) + packet id (2) + properties (1, none) + payload
      const fits = 65536 - 25;
      (await publishCode(c!, 'v1/gateway/telemetry', body(fits))).should.equal(0);
      const gone = serverDisconnect(c!);
      let acked = false;
      c!.publish('v1/gateway/telemetry', body(fits + 1), { qos: 1 }, (err) => (acked = !err));
      (await gone).should.equal(0x95);
      acked.should.be.false();
      emu.telemetry('A').length.should.equal(1);
      emu.closedReasons()[0].should.match(/oversize: a 65537-byte packet \(remaining length\) > max 65536/);
      await emu.waitFor(() => !emu.gatewayConnected());
    });
  });

  describe('downlinks', () => {
    let inbox: Inbox;
    beforeEach(async () => {
      c = await gateway5(emu.url);
      inbox = new Inbox(c);
      await subscribe(c, ['v1/gateway/attributes', 'v1/gateway/rpc', 'v1/gateway/attributes/response']);
      await publish(c, 'v1/gateway/connect', { device: 'A' });
    });

    it('round-trips an RPC, sending at QoS 1 with a fresh packet id per publish', async () => {
      const ids: number[] = [];
      c!.on('message', (_t, _p, packet) => ids.push(packet.messageId!));
      const answers = [emu.callRpc('A', 'setValve', { open: true }), emu.callRpc('A', 'getState', null)];
      for (let i = 0; i < 2; i++) {
        const req = await inbox.next('v1/gateway/rpc');
        req.qos.should.equal(1);
        const body = req.json as { device: string; data: { id: number; method: string } };
        body.device.should.equal('A');
        await publish(c!, 'v1/gateway/rpc', { device: 'A', id: body.data.id, data: { method: body.data.method } });
      }
      should(await answers[0]).eql({ method: 'setValve' });
      should(await answers[1]).eql({ method: 'getState' });
      ids.length.should.equal(2);
      ids[0].should.be.above(0);
      ids[1].should.not.equal(ids[0]);
    });

    it('pushes shared attribute updates and answers attribute requests', async () => {
      emu.setSharedAttributes('A', { interval: 5 }).should.be.true();
      should((await inbox.next('v1/gateway/attributes')).json).eql({ device: 'A', data: { interval: 5 } });
      await publish(c!, 'v1/gateway/attributes/request', { id: 7, device: 'A', client: false, key: 'interval' });
      should((await inbox.next('v1/gateway/attributes/response')).json).eql({ id: 7, device: 'A', value: 5 });
    });

    it('notifyDeviceDisconnected sends {device, reason} on v1/gateway/disconnect (no subscription needed) and deregisters the device', async () => {
      emu.notifyDeviceDisconnected('A', 150);
      should((await inbox.next('v1/gateway/disconnect')).json).eql({ device: 'A', reason: 150 });
      emu.device('A')!.connected.should.be.false();
      await emu.callRpc('A', 'x', {}).should.be.rejectedWith(/offline/);
      (() => emu.notifyDeviceDisconnected('A', 128)).should.throw(/not connected/);
      // An uplink registers it again.
      await publish(c!, 'v1/gateway/telemetry', { A: [{ t: 1 }] });
      emu.device('A')!.connected.should.be.true();
    });

    it('still refuses notifyDeviceDisconnected for a device behind an MQTT 3.1.1 gateway', async () => {
      c2 = await connect(emu.url, { clientId: 'gw-basic', username: 'alice', password: 's3cret' });
      await publish(c2, 'v1/gateway/connect', { device: 'B' });
      (() => emu.notifyDeviceDisconnected('B', 150)).should.throw(/MQTT 5/);
      emu.device('B')!.connected.should.be.true();
    });
  });

  describe('connection upkeep (raw packets)', () => {
    const connectPacket = (keepalive: number): mqtt.Packet => ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'raw', keepalive, username: 'GATEWAY_TOKEN' });

    it('answers PINGREQ with PINGRESP', async () => {
      raw = await RawMqtt.open(emu.url);
      raw.send(connectPacket(60));
      ((await raw.next('connack')) as mqtt.IConnackPacket).reasonCode!.should.equal(0);
      raw.send({ cmd: 'pingreq' });
      (await raw.next('pingresp')).cmd.should.equal('pingresp');
    });

    it('closes a silent client with DISCONNECT 0x8D after 1.5 x its keepalive', async () => {
      raw = await RawMqtt.open(emu.url);
      raw.send(connectPacket(1));
      await raw.next('connack');
      ((await raw.next('disconnect')) as mqtt.IDisconnectPacket).reasonCode!.should.equal(0x8d);
      await raw.whenClosed();
      await emu.waitFor(() => !emu.gatewayConnected());
      emu.closedReasons()[0].should.match(/^Gateway: keepalive timeout/);
    });

    it('treats the client\'s DISCONNECT as a normal close, deregistering its devices', async () => {
      c = await gateway5(emu.url);
      await publish(c, 'v1/gateway/connect', { device: 'A' });
      await c.endAsync();
      await emu.waitFor(() => !emu.gatewayConnected());
      emu.device('A')!.connected.should.be.false();
      emu.closedReasons().should.be.empty();
      const last = emu.journal().filter((j) => j.kind === 'gatewayDisconnected').pop()!;
      (last.detail as { reason: string }).reason.should.match(/client sent DISCONNECT/);
    });

    it('closes a connection whose first packet is not CONNECT', async () => {
      raw = await RawMqtt.open(emu.url);
      raw.send({ cmd: 'pingreq' });
      await raw.whenClosed();
    });
  });

  it('dropGateway closes an MQTT 5 gateway like a network loss', async () => {
    c = await gateway5(emu.url);
    const wasClosed = closed(c);
    emu.dropGateway().should.equal(1);
    await wasClosed;
    await emu.waitFor(() => !emu.gatewayConnected());
  });
});
