// `npm run emulator`: a ThingsBoard emulator on 127.0.0.1:1883 for trying the nodes by hand.
// Flags (or env): --port (TB_PORT), --token (TB_TOKEN), --name (TB_GATEWAY), --ws-port (TB_WS_PORT),
// --max-payload (TB_MAX_PAYLOAD), --host (TB_HOST), --provision-key (TB_PROVISION_KEY), --provision-secret
// (TB_PROVISION_SECRET): a device profile that provisions new devices. Prints one line per event; Ctrl-C stops it.
import { ThingsBoardEmulator } from './thingsboard';
import { runThingsPanelEmulator } from './thingspanel/cli';
import { runWatsonEmulator } from './watson/cli';

function flag(name: string, env: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return process.env[env];
}

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log('usage: node dist/emulator/cli.js [--port 1883] [--token GATEWAY_TOKEN] [--name Gateway] [--ws-port N] [--max-payload 65536] [--host 127.0.0.1] [--provision-key PROVISION_KEY] [--provision-secret PROVISION_SECRET]');
    return;
  }
  if (flag('platform', 'EMU_PLATFORM') === 'thingspanel') {
    const tp = await runThingsPanelEmulator((name) => flag(name, `TP_${name.toUpperCase().replace(/-/g, '_')}`));
    const stopTp = () => void tp.stop().then(() => process.exit(0), () => process.exit(1));
    process.on('SIGINT', stopTp);
    process.on('SIGTERM', stopTp);
    return;
  }
  if (flag('platform', 'EMU_PLATFORM') === 'watson') {
    const wt = await runWatsonEmulator((name) => flag(name, `WIOTP_${name.toUpperCase().replace(/-/g, '_')}`));
    const stopWt = () => void wt.stop().then(() => process.exit(0), () => process.exit(1));
    process.on('SIGINT', stopWt);
    process.on('SIGTERM', stopWt);
    return;
  }
  const token = flag('token', 'TB_TOKEN') ?? 'GATEWAY_TOKEN';
  const name = flag('name', 'TB_GATEWAY') ?? 'Gateway';
  const stamp = () => new Date().toISOString().slice(11, 23);
  const emu = await ThingsBoardEmulator.start({
    host: flag('host', 'TB_HOST') ?? '127.0.0.1',
    port: num(flag('port', 'TB_PORT'), '--port') ?? 1883,
    wsPort: num(flag('ws-port', 'TB_WS_PORT'), '--ws-port'),
    maxPayload: num(flag('max-payload', 'TB_MAX_PAYLOAD'), '--max-payload'),
    gateways: [{ name, token }],
    log: (line) => console.log(`${stamp()} ${line}`),
  });
  const provisionKey = flag('provision-key', 'TB_PROVISION_KEY') ?? 'PROVISION_KEY';
  const provisionSecret = flag('provision-secret', 'TB_PROVISION_SECRET') ?? 'PROVISION_SECRET';
  emu.allowProvisioning({ key: provisionKey, secret: provisionSecret });
  console.log(`ThingsBoard emulator on ${emu.url}${emu.wsUrl ? ` and ${emu.wsUrl}` : ''}: gateway "${name}", access token "${token}" (MQTT 3.1.1 and 5); provision key "${provisionKey}", secret "${provisionSecret}". Ctrl-C to stop.`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emu.stop().then(
      () => {
        console.log('emulator stopped');
        process.exit(0);
      },
      (e: unknown) => {
        console.error('emulator stop failed:', e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
