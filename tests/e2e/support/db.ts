/** The stack's SQLite file read straight from the table, so the tests see what the app really stored. */
import { databaseAccess, timeOf, type UserRow } from "../../support/database-access.ts";

export { timeOf, type UserRow };

export const queryDatabase = <T = Record<string, unknown>>(databaseFile: string, sql: string, ...params: unknown[]) =>
  databaseAccess(`file:${databaseFile}`).query<T>(sql, ...params);

export const usersWithEmail = (databaseFile: string, email: string) =>
  queryDatabase<UserRow>(databaseFile, "SELECT * FROM User WHERE email = ? COLLATE NOCASE ORDER BY id", email);

export const usersWithKindeId = (databaseFile: string, kindeId: string) =>
  queryDatabase<UserRow>(databaseFile, "SELECT * FROM User WHERE kindeId = ? ORDER BY id", kindeId);

export async function onlyUserWithEmail(databaseFile: string, email: string): Promise<UserRow> {
  const rows = await usersWithEmail(databaseFile, email);
  if (rows.length !== 1) throw new Error(`expected exactly one User row for ${email}, found ${rows.length}`);
  return rows[0]!;
}
