/** Which Kinde tokens are this application's (app/lib/auth/tokens.server.ts, decision 0016). */
import { expect, it } from "vitest";
import { pinProblem, type KindePins } from "~/lib/auth/tokens.server";

const pins: KindePins = { issuer: "https://acme.kinde.com", clientId: "app", audiences: ["https://api.acme.com"] };
const access = { iss: pins.issuer, azp: "app", aud: ["https://api.acme.com", "other"], sub: "kp_1" };
const id = { iss: pins.issuer, azp: "app", aud: ["app"], sub: "kp_1" };

it("accepts this application's pair, with or without azp in the ID token and with aud as a string", () => {
  expect(pinProblem(access, id, pins)).toBeNull();
  expect(pinProblem(access, { ...id, azp: undefined, aud: "app" }, pins)).toBeNull();
  expect(pinProblem({ ...access, aud: [] }, id, { ...pins, audiences: [] })).toBeNull();
});

it.each([
  ["another issuer", { ...access, iss: "https://acme.kinde.com/" }, id, "access token from another issuer"],
  ["another application", { ...access, azp: "spa" }, id, "access token for another application"],
  ["no azp", { ...access, azp: undefined }, id, "access token for another application"],
  ["another API", { ...access, aud: ["https://api.other.com"] }, id, "access token for another API"],
  ["no audience", { ...access, aud: undefined }, id, "access token for another API"],
  ["an ID token from another issuer", access, { ...id, iss: "https://evil.kinde.com" }, "ID token from another issuer"],
  ["an ID token for another application", access, { ...id, aud: ["spa"] }, "ID token for another application"],
  ["an ID token with another azp", access, { ...id, azp: "spa" }, "ID token for another application"],
  ["two people", access, { ...id, sub: "kp_2" }, "tokens of two people"],
  ["no subject", { ...access, sub: undefined }, { ...id, sub: undefined }, "tokens of two people"],
])("refuses %s", (_, accessClaims, idClaims, problem) => {
  expect(pinProblem(accessClaims, idClaims, pins)).toBe(problem);
});

it("requires every configured audience", () => {
  expect(pinProblem(access, id, { ...pins, audiences: ["https://api.acme.com", "missing"] })).toBe(
    "access token for another API",
  );
});
