// The test platform's admin HTTP API, used by the editor's "IoT gateway" tab
// (resources/test-platform.js). Every failure is an answer with a code the editor translates;
// none escapes as an exception (a port in use must not take Node-RED down).
//
//   GET    iot-gateway/test-platform                      running platforms
//   POST   iot-gateway/test-platform           {platform, port?}   start one (port 0/none: a free one)
//   GET    iot-gateway/test-platform/:id                  one platform
//   DELETE iot-gateway/test-platform/:id                  stop it
//   GET    iot-gateway/test-platform/:id/devices          its devices and the latest data of each
//   POST   iot-gateway/test-platform/:id/rpc        {device, method, params?, timeout?}  ThingsBoard
//   POST   iot-gateway/test-platform/:id/attributes {device, values}    ThingsBoard shared / ThingsPanel set
//   POST   iot-gateway/test-platform/:id/command    {device, method, params?}   ThingsPanel, Watson
//   POST   iot-gateway/test-platform/:id/device-action {device, method: reboot|factory_reset}  Watson managed
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import { testPlatforms, TestPlatformError, type Action, type SendRequest } from "./test-platform";

export const BASE = "/iot-gateway/test-platform";
const ACTIONS: Action[] = ["rpc", "attributes", "command", "device-action"];
const MAX_TIMEOUT_MS = 60000;

/** Servers whose close already stops the platforms (a test harness loads the package many times). */
const watched = new WeakSet<object>();

export function registerTestPlatform(RED: NodeAPI): void {
  const t = (code: string, params: Record<string, string | number>): string => {
    try {
      return RED._(`test-platform.errors.${code}`, params);
    } catch {
      return code;
    }
  };
  const fail = (res: Response, e: unknown): void => {
    if (e instanceof TestPlatformError) {
      res.status(e.status).json({ code: e.code, params: e.params, message: t(e.code, e.params) });
      return;
    }
    const reason = e instanceof Error ? e.message : String(e);
    RED.log.warn(`iot-gateway test platform: ${reason}`);
    res.status(500).json({ code: "start-failed", params: { reason }, message: t("start-failed", { reason }) });
  };
  const run = (res: Response, work: () => unknown): void => {
    Promise.resolve()
      .then(work)
      .then((body) => {
        if (body === undefined) res.status(204).end();
        else res.json(body);
      })
      .catch((e: unknown) => fail(res, e));
  };
  const read = RED.auth.needsPermission("gateway-config.read");
  const write = RED.auth.needsPermission("gateway-config.write");

  RED.httpAdmin.get(BASE, read, (_req: Request, res: Response) => run(res, () => ({ platforms: testPlatforms.list() })));

  RED.httpAdmin.post(BASE, write, (req: Request, res: Response) =>
    run(res, async () => {
      const body = (req.body ?? {}) as { platform?: unknown; port?: unknown };
      const port = body.port === undefined || body.port === "" || body.port === null ? 0 : Number(body.port);
      const info = await testPlatforms.start(String(body.platform ?? ""), port);
      RED.log.info(`iot-gateway test platform: ${info.platform} on ${info.url}`);
      return info;
    }),
  );

  RED.httpAdmin.get(`${BASE}/:id`, read, (req: Request, res: Response) => run(res, () => testPlatforms.info(idOf(req))));

  RED.httpAdmin.delete(`${BASE}/:id`, write, (req: Request, res: Response) =>
    run(res, async () => {
      await testPlatforms.stop(idOf(req));
      return undefined;
    }),
  );

  RED.httpAdmin.get(`${BASE}/:id/devices`, read, (req: Request, res: Response) =>
    run(res, () => ({ platform: testPlatforms.info(idOf(req)), devices: testPlatforms.devices(idOf(req)) })),
  );

  for (const action of ACTIONS) {
    RED.httpAdmin.post(`${BASE}/:id/${action}`, write, (req: Request, res: Response) =>
      run(res, () => testPlatforms.send(idOf(req), action, sendRequest(req.body))),
    );
  }

  const server = RED.server as unknown as { once?: (e: string, f: () => void) => void } | undefined;
  if (server && typeof server.once === "function" && !watched.has(server)) {
    watched.add(server);
    server.once("close", () => void testPlatforms.stopAll());
  }
}

function sendRequest(raw: unknown): SendRequest {
  const b = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const timeout = b.timeout === undefined || b.timeout === "" ? undefined : Number(b.timeout);
  if (timeout !== undefined && !(timeout > 0 && timeout <= MAX_TIMEOUT_MS)) throw new TestPlatformError("bad-timeout", 400, { max: MAX_TIMEOUT_MS });
  return {
    device: typeof b.device === "string" ? b.device.trim() : "",
    method: typeof b.method === "string" ? b.method : undefined,
    params: b.params,
    values: b.values && typeof b.values === "object" && !Array.isArray(b.values) ? (b.values as Record<string, unknown>) : undefined,
    timeoutMs: timeout,
  };
}

function idOf(req: Request): string {
  const id = req.params.id as unknown;
  return Array.isArray(id) ? String(id[0]) : String(id);
}
