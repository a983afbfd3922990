/**
 * Runs before each test file: app modules imported by the test see a valid configuration and
 * a database file of this file's own, so files run in parallel without touching each other
 * or the developer's data.
 */
import { freshDatabaseFile } from "./databases";
import { appEnv } from "./test-env";

Object.assign(
  process.env,
  appEnv({
    siteUrl: "http://localhost:3999",
    issuerUrl: "http://127.0.0.1:9",
    databaseFile: await freshDatabaseFile(),
  }),
);
