/** The setup that fails a test logging an undeclared console.error (tests/support/console-errors.ts). */
import { describe, expect, it } from "vitest";
import { allowConsoleError, unexpectedConsoleErrors } from "../../support/console-errors";

describe("console.error in a test", () => {
  it("is caught unless declared, whatever it is given", () => {
    console.error("the database is %s", "gone", { code: 503 });
    expect(unexpectedConsoleErrors()).toEqual(["the database is gone { code: 503 }"]);
    // Declared afterwards here only so that this test itself passes.
    allowConsoleError(/the database is gone/);
    expect(unexpectedConsoleErrors()).toEqual([]);
  });

  it("starts every test with nothing logged and nothing allowed", () => {
    expect(unexpectedConsoleErrors()).toEqual([]);
    console.error("new in this test");
    expect(unexpectedConsoleErrors()).toEqual(["new in this test"]);
    allowConsoleError(/^new in this test$/);
  });
});
