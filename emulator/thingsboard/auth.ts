// Gateway authentication the way the MQTT transport does it: an X.509 client certificate when
// one is presented over TLS; otherwise an access token (username, empty password) or basic MQTT
// credentials (client id, username, password). CONNACK 4 = empty/bad username or password,
// 5 = not authorised.
import { GatewayConfig } from './types';

export interface PeerCertificateInfo {
  /** "AB:CD:..." */
  fingerprint256?: string;
  fingerprint?: string;
  cn?: string;
  /** the configured CA verified the chain */
  authorized: boolean;
}

export interface ConnectCredentials {
  clientId: string;
  username?: string;
  password?: Buffer;
  cert?: PeerCertificateInfo;
}

export type AuthResult = { ok: true; gateway: GatewayConfig; method: 'token' | 'basic' | 'x509' } | { ok: false; returnCode: 4 | 5; reason: string };

function normFingerprint(f: string): string {
  return f.replace(/:/g, '').toLowerCase();
}

export function authenticate(gateways: readonly GatewayConfig[], c: ConnectCredentials): AuthResult {
  if (c.cert) {
    const fps = [c.cert.fingerprint256, c.cert.fingerprint].filter((f): f is string => !!f).map(normFingerprint);
    for (const gw of gateways) {
      if (gw.certFingerprint && fps.includes(normFingerprint(gw.certFingerprint))) return { ok: true, gateway: gw, method: 'x509' };
      // A CN alone proves nothing unless the CA vouched for the certificate.
      if (gw.cn && c.cert.authorized && c.cert.cn === gw.cn) return { ok: true, gateway: gw, method: 'x509' };
    }
    return { ok: false, returnCode: 5, reason: `client certificate (CN=${c.cert.cn ?? '?'}) is not registered to any gateway` };
  }

  const username = c.username ?? '';
  const password = c.password ? c.password.toString('utf8') : '';
  if (username === '') return { ok: false, returnCode: 4, reason: 'empty username' };

  for (const gw of gateways) {
    const b = gw.basic;
    if (!b || b.username !== username) continue;
    if (b.clientId !== undefined && b.clientId !== c.clientId) {
      return { ok: false, returnCode: 5, reason: `client id "${c.clientId}" not authorised for these basic credentials` };
    }
    if (b.password !== password) return { ok: false, returnCode: 4, reason: 'bad username or password' };
    return { ok: true, gateway: gw, method: 'basic' };
  }

  for (const gw of gateways) {
    if (gw.token !== undefined && gw.token === username) {
      if (password !== '') return { ok: false, returnCode: 4, reason: 'access token with a non-empty password' };
      return { ok: true, gateway: gw, method: 'token' };
    }
  }
  return { ok: false, returnCode: 5, reason: `unknown access token "${username}"` };
}
