// Topic names of the ThingsBoard MQTT API and the server's subscription allow-list.

export const GW_CONNECT = 'v1/gateway/connect';
export const GW_DISCONNECT = 'v1/gateway/disconnect';
export const GW_TELEMETRY = 'v1/gateway/telemetry';
export const GW_ATTRIBUTES = 'v1/gateway/attributes';
export const GW_ATTRIBUTES_REQUEST = 'v1/gateway/attributes/request';
export const GW_ATTRIBUTES_RESPONSE = 'v1/gateway/attributes/response';
export const GW_RPC = 'v1/gateway/rpc';
export const GW_CLAIM = 'v1/gateway/claim';

export const ME_TELEMETRY = 'v1/devices/me/telemetry';
export const ME_ATTRIBUTES = 'v1/devices/me/attributes';
export const ME_ATTRIBUTES_REQUEST_PREFIX = 'v1/devices/me/attributes/request/';
export const ME_ATTRIBUTES_RESPONSE_PREFIX = 'v1/devices/me/attributes/response/';
export const ME_RPC_REQUEST_PREFIX = 'v1/devices/me/rpc/request/';
export const ME_RPC_RESPONSE_PREFIX = 'v1/devices/me/rpc/response/';

/**
 * The server accepts SUBSCRIBE only for these exact filters; anything else (v1/gateway/#, a
 * typo, a bare wildcard) gets a SUBACK failure.
 */
export const ALLOWED_SUBSCRIPTIONS: ReadonlySet<string> = new Set([
  GW_ATTRIBUTES,
  GW_RPC,
  GW_ATTRIBUTES_RESPONSE,
  ME_RPC_REQUEST_PREFIX + '+',
  ME_RPC_RESPONSE_PREFIX + '+',
  ME_ATTRIBUTES,
  ME_ATTRIBUTES_RESPONSE_PREFIX + '+',
]);

/** The subscription filter a downlink topic is delivered through. */
export function filterFor(topic: string): string {
  for (const prefix of [ME_RPC_REQUEST_PREFIX, ME_RPC_RESPONSE_PREFIX, ME_ATTRIBUTES_RESPONSE_PREFIX]) {
    if (topic.startsWith(prefix)) return prefix + '+';
  }
  return topic;
}

/** Request id at the end of `v1/devices/me/.../{id}`; undefined when it is not an integer. */
export function requestIdOf(topic: string, prefix: string): number | undefined {
  const rest = topic.slice(prefix.length);
  if (!/^\d+$/.test(rest)) return undefined;
  return Number(rest);
}
