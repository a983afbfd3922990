// SQL written once for SQLite and PostgreSQL: quoted identifiers, `?` placeholders (on PostgreSQL they become $1, $2...).
import Database from "better-sqlite3";
import { databaseProvider, sqliteFile, type DatabaseProvider } from "../../app/lib/database/url.ts";
import { withPgClient } from "./postgres.ts";

export interface StackDatabase {
  provider: DatabaseProvider;
  url: string;
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  run(sql: string, ...params: unknown[]): Promise<void>;
}

export interface UserRow {
  id: number;
  kindeId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  picture: string | null;
  createdAt: number | string;
  updatedAt: number | string;
  lastSignInAt: number | string | null;
  nameEditedAt: number | string | null;
  suspendedAt: number | string | null;
  kindeSyncedAt: number | string | null;
  kindeSyncedFrom: string | null;
}

export const usersIn = (database: StackDatabase) => database.query<UserRow>('SELECT * FROM "User" ORDER BY "id"');

export const userWithKindeId = async (database: StackDatabase, kindeId: string): Promise<UserRow | undefined> =>
  (await database.query<UserRow>('SELECT * FROM "User" WHERE "kindeId" = ?', kindeId))[0];

/** Prisma keeps DateTime as ISO text or epoch milliseconds depending on the adapter. */
export function timeOf(value: number | string | null): number {
  if (value === null) return Number.NaN;
  if (typeof value === "number") return value;
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

function sqliteAccess(url: string): StackDatabase {
  const file = sqliteFile(url);
  const withDb = <T>(readonly: boolean, use: (db: Database.Database) => T): T => {
    const db = new Database(file, { readonly, fileMustExist: true });
    try {
      return use(db);
    } finally {
      db.close();
    }
  };
  return {
    provider: "sqlite",
    url,
    query: async <T>(sql: string, ...params: unknown[]) => withDb(true, (db) => db.prepare(sql).all(...params) as T[]),
    run: async (sql, ...params) => void withDb(false, (db) => db.prepare(sql).run(...params)),
  };
}

export function databaseAccess(url: string): StackDatabase {
  if (databaseProvider(url) === "sqlite") return sqliteAccess(url);
  return {
    provider: "postgresql",
    url,
    query: <T>(sql: string, ...params: unknown[]) =>
      withPgClient(url, async (client) => (await client.query(numbered(sql), params)).rows as T[]),
    run: (sql, ...params) => withPgClient(url, async (client) => void (await client.query(numbered(sql), params))),
  };
}
