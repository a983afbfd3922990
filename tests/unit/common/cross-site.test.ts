import { expect, it } from "vitest";
import { crossSiteVerdict, isCrossSiteRequest, requestHost } from "../../../common/cross-site.ts";
import { CROSS_SITE_CASES, headersFor } from "../../support/cross-site-cases";

const SELF = "http://localhost:3000";

it.each(CROSS_SITE_CASES.map((testCase) => [testCase.what, testCase] as const))("POST, %s", (_, testCase) => {
  const headers = headersFor(testCase, SELF);
  const facts = {
    method: "POST",
    secFetchSite: headers["Sec-Fetch-Site"],
    origin: headers.Origin,
    host: "localhost:3000",
  };
  expect(isCrossSiteRequest(facts)).toBe(testCase.crossSite);
});

it("never refuses a method that changes nothing", () => {
  for (const method of ["GET", "HEAD", "OPTIONS", "get"]) {
    expect(crossSiteVerdict({ method, secFetchSite: "cross-site", origin: "null", host: "x" })).toEqual({
      crossSite: false,
      why: "safe method",
    });
  }
});

it("reads the host behind a proxy from the first X-Forwarded-Host", () => {
  expect(requestHost("internal:8080", "App.Example, proxy.internal")).toBe("app.example");
  expect(requestHost("localhost:3000", undefined)).toBe("localhost:3000");
  expect(
    isCrossSiteRequest({
      method: "POST",
      origin: "https://app.example",
      host: requestHost("internal:8080", "app.example"),
    }),
  ).toBe(false);
});
