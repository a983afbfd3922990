// Before each test file: a valid configuration and a database file of its own, so files run in parallel.
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
