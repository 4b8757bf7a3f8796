// ThingsBoard's gateway topics (shared/protocols/thingsboard.md).
export const T = {
  connect: "v1/gateway/connect",
  disconnect: "v1/gateway/disconnect",
  telemetry: "v1/gateway/telemetry",
  attributes: "v1/gateway/attributes",
  attributeRequest: "v1/gateway/attributes/request",
  attributeResponse: "v1/gateway/attributes/response",
  rpc: "v1/gateway/rpc",
  claim: "v1/gateway/claim",
  meTelemetry: "v1/devices/me/telemetry",
  meAttributes: "v1/devices/me/attributes",
  meRpcRequest: "v1/devices/me/rpc/request/",
  meRpcResponse: "v1/devices/me/rpc/response/",
} as const;
