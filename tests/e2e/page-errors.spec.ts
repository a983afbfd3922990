// The page-error guard (support/test.ts) checked: each `test.fail()` passes only if the guard fails it.
import { waitForApp } from "./support/auth-steps";
import { expect, test } from "./support/test";

test.describe("a page error the test did not declare fails it", () => {
  test("a console.error", async ({ page }) => {
    test.fail();
    await page.goto("/");
    await page.evaluate(() => console.error("something broke"));
  });

  test("an uncaught exception", async ({ page }) => {
    test.fail();
    await page.goto("/");
    await page.evaluate(() => setTimeout(() => Promise.reject(new Error("nobody caught this"))));
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  });

  test("a script the Content-Security-Policy refuses", async ({ page }) => {
    test.fail();
    await page.goto("/");
    await waitForApp(page);
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.__injected = true";
      document.body.append(script);
    });
    expect(await page.evaluate(() => "__injected" in window)).toBe(false);
  });
});

test.describe("a declared one does not", () => {
  test.use({ allowedPageErrors: [/expected in this test/] });

  test("a console.error the test expects", async ({ page }) => {
    await page.goto("/");
    await page.evaluate(() => console.error("expected in this test"));
  });
});
