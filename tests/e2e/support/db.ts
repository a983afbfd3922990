/**
 * Reads the stack's SQLite file the way a person with a SQL shell would: read-only, straight
 * from the table, so the tests see what the app really stored.
 */
import { queryDatabase as query, timeOf, type UserRow } from "../../support/flows";

export { timeOf, type UserRow };

export function usersWithEmail(databaseFile: string, email: string): UserRow[] {
  return query<UserRow>(databaseFile, "SELECT * FROM User WHERE email = ? COLLATE NOCASE ORDER BY id", email);
}

export function usersWithKindeId(databaseFile: string, kindeId: string): UserRow[] {
  return query<UserRow>(databaseFile, "SELECT * FROM User WHERE kindeId = ? ORDER BY id", kindeId);
}

/** The one row stored for `email`; fails when there is none or more than one. */
export function onlyUserWithEmail(databaseFile: string, email: string): UserRow {
  const rows = usersWithEmail(databaseFile, email);
  if (rows.length !== 1) throw new Error(`expected exactly one User row for ${email}, found ${rows.length}`);
  return rows[0]!;
}
