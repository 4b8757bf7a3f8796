// What the product sends and how it reads the server's answers (shapes from ThingsBoard's
// JsonConverter), including answers it cannot use.
import should from "should";
import { credentialsOf, provisionBody, ProvisionRefused } from "../../lib/dialect/thingsboard-provision";

describe("provisioning: the request and the server's answers", () => {
  const req = { key: "K", secret: "S", deviceName: "Edge", credentialsType: "ACCESS_TOKEN" as const };

  it("asks for a gateway device; the server makes the token, MQTT basic credentials are made up here", () => {
    provisionBody(req).should.eql({ deviceName: "Edge", provisionDeviceKey: "K", provisionDeviceSecret: "S", credentialsType: "ACCESS_TOKEN", gateway: true });
    let n = 0;
    const basic = provisionBody({ ...req, credentialsType: "MQTT_BASIC" }, (bytes) => `r${bytes}-${++n}`);
    basic.should.containEql({ credentialsType: "MQTT_BASIC", gateway: true, clientId: "gw-r6-1", username: "gw-r6-2", password: "r12-3" });
  });

  it("takes the credentials of a SUCCESS answer", () => {
    should(credentialsOf({ status: "SUCCESS", credentialsType: "ACCESS_TOKEN", credentialsValue: "T0K" })).eql({ accessToken: "T0K" });
    should(credentialsOf({ status: "SUCCESS", credentialsType: "MQTT_BASIC", credentialsValue: { clientId: "c", userName: "u", password: "p" } })).eql({ clientId: "c", username: "u", password: "p" });
    should(credentialsOf({ status: "SUCCESS", credentialsType: "MQTT_BASIC", credentialsValue: { userName: "u", password: "p" } })).eql({ clientId: undefined, username: "u", password: "p" });
  });

  it("turns refusals and answers it cannot use into a ProvisionRefused with the server's word and reason", () => {
    const cases: Array<[unknown, string, string]> = [
      [{ status: "NOT_FOUND", errorMsg: "Provision data was not found!" }, "NOT_FOUND", "Provision data was not found!"],
      [{ status: "FAILURE", errorMsg: "Failed to provision device!" }, "FAILURE", "Failed to provision device!"],
      [{ status: "SUCCESS", credentialsType: "X509_CERTIFICATE", credentialsValue: "hash" }, "UNSUPPORTED", "credentials of type X509_CERTIFICATE that this gateway cannot use"],
      [{ status: "SUCCESS", credentialsType: "ACCESS_TOKEN", credentialsValue: "" }, "UNSUPPORTED", "credentials of type ACCESS_TOKEN that this gateway cannot use"],
      [[], "INVALID", "the answer is not a JSON object"],
      [{ errorMsg: "?" }, "INVALID", "?"],
    ];
    for (const [answer, status, reason] of cases) {
      const r = credentialsOf(answer);
      should(r).be.instanceOf(ProvisionRefused);
      should(r).have.properties({ status, reason });
    }
    (credentialsOf({ status: "NOT_FOUND", errorMsg: "Provision data was not found!" }) as Error).message.should.equal("provisioning refused by the server: NOT_FOUND (Provision data was not found!)");
  });
});
