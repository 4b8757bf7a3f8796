import 'should';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ThingsBoardEmulator } from '../../emulator/thingsboard';
import { hasCommand, requirePeer } from '../support/peers';
import { Client, connect, end, gateway, publish } from './mqtt-client';

describe('ThingsBoard emulator: MQTT over WebSocket', () => {
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;

  before(async () => {
    emu = await ThingsBoardEmulator.start({ wsPort: 0 });
  });
  after(async () => {
    await end(c);
    await emu.stop();
  });

  it('accepts a gateway on ws:// with the same rules', async () => {
    emu.wsUrl!.should.match(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    c = await gateway(emu.wsUrl!);
    await publish(c, 'v1/gateway/telemetry', { W: [{ ts: 5, values: { a: 1 } }] });
    emu.telemetry('W').should.eql([{ ts: 5, values: { a: 1 }, serverTs: false }]);
    const err = await connect(emu.wsUrl!, { username: 'wrong' }).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(5);
  });
});

describe('ThingsBoard emulator: TLS with optional client-certificate auth', function () {
  let dir: string;
  let emu: ThingsBoardEmulator;
  let c: Client | undefined;
  const read = (f: string) => fs.readFileSync(path.join(dir, f));
  let fingerprint = '';

  before(async function () {
    requirePeer('openssl', hasCommand('openssl'), this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-emu-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    // CA, a server certificate for 127.0.0.1, and two client certificates (one signed by the CA).
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Test CA');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=gw-by-cn');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=gw-by-cn');
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'fp.key', '-out', 'fp.crt', '-days', '2', '-subj', '/CN=pinned');
    fingerprint = ssl('x509', '-in', 'fp.crt', '-noout', '-fingerprint', '-sha256').toString().trim().split('=')[1];

    emu = await ThingsBoardEmulator.start({
      tls: { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true },
      gateways: [
        { name: 'GW token', token: 'GATEWAY_TOKEN' },
        { name: 'GW cn', cn: 'gw-by-cn' },
        { name: 'GW pinned', certFingerprint: fingerprint },
      ],
    });
  });
  afterEach(() => end(c).then(() => (c = undefined)));
  after(async () => {
    if (emu) await emu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an access token over mqtts:// without a client certificate', async () => {
    c = await gateway(emu.tlsUrl!, 'GATEWAY_TOKEN', { ca: read('ca.crt') });
    emu.gatewayConnected('GW token').should.be.true();
  });

  it('maps a CA-signed client certificate to a gateway by CN', async () => {
    c = await connect(emu.tlsUrl!, { ca: read('ca.crt'), key: read('client.key'), cert: read('client.crt') });
    emu.gatewayConnected('GW cn').should.be.true();
    await publish(c, 'v1/gateway/telemetry', { T: [{ x: 1 }] });
    emu.device('T')!.gateway.should.equal('GW cn');
  });

  it('maps a client certificate to a gateway by its SHA-256 fingerprint', async () => {
    c = await connect(emu.tlsUrl!, { ca: read('ca.crt'), key: read('fp.key'), cert: read('fp.crt') });
    emu.gatewayConnected('GW pinned').should.be.true();
  });

  it('refuses (CONNACK 5) a self-signed certificate that only claims a registered CN', async () => {
    const err = await connect(emu.tlsUrl!, { ca: read('ca.crt'), key: read('self.key'), cert: read('self.crt') }).then(() => null, (e: Error & { code?: number }) => e);
    err!.code!.should.equal(5);
  });
});
