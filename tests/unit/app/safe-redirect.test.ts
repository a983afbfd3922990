import { expect, it } from "vitest";
import { safeRedirect } from "~/lib/auth/safe-redirect";

it.each(["/dashboard", "/members?page=2", "/a/b#c", "/search?q=%2F%2Fx"])("keeps the same-site path %s", (path) => {
  expect(safeRedirect(path)).toBe(path);
});

it.each([
  "//evil.example",
  "https://evil.example",
  "http://evil.example/dashboard",
  "/\\evil.example",
  "\\\\evil.example",
  "/%2F%2Fevil.example",
  "/%2f/evil.example",
  "/%5Cevil.example",
  "%2F%2Fevil.example",
  "/\tevil",
  "/\n/evil.example",
  "/%0D%0ALocation:%20https://evil.example",
  "javascript:alert(1)",
  "dashboard",
  "",
  "/%E0%A4%A",
  `/${"a".repeat(3000)}`,
])("falls back to the dashboard for %j", (target) => {
  expect(safeRedirect(target)).toBe("/dashboard");
});

it("falls back for values that are not strings", () => {
  expect(safeRedirect(null)).toBe("/dashboard");
  expect(safeRedirect(undefined, "/")).toBe("/");
  expect(safeRedirect(["/x"])).toBe("/dashboard");
});
