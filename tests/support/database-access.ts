/**
 * Reading and writing a stack's database directly, the way a person with a SQL shell would, on
 * SQLite or PostgreSQL alike. SQL is written once with `?` placeholders and quoted identifiers
 * ("User"), which both accept; on PostgreSQL the placeholders become $1, $2...
 */
import Database from "better-sqlite3";
import { databaseProvider, type DatabaseProvider } from "../../app/lib/database/url.ts";
import { withPgClient } from "./postgres.ts";

export interface StackDatabase {
  provider: DatabaseProvider;
  url: string;
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  run(sql: string, ...params: unknown[]): Promise<void>;
}

const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export function databaseAccess(url: string): StackDatabase {
  const provider = databaseProvider(url);
  if (provider === "sqlite") {
    const file = url.replace(/^file:/, "");
    const withDb = <T>(readonly: boolean, use: (db: Database.Database) => T): T => {
      const db = new Database(file, { readonly, fileMustExist: true });
      try {
        return use(db);
      } finally {
        db.close();
      }
    };
    return {
      provider,
      url,
      query: async <T>(sql: string, ...params: unknown[]) =>
        withDb(true, (db) => db.prepare(sql).all(...params) as T[]),
      run: async (sql, ...params) => void withDb(false, (db) => db.prepare(sql).run(...params)),
    };
  }
  return {
    provider,
    url,
    query: <T>(sql: string, ...params: unknown[]) =>
      withPgClient(url, async (client) => (await client.query(numbered(sql), params)).rows as T[]),
    run: (sql, ...params) => withPgClient(url, async (client) => void (await client.query(numbered(sql), params))),
  };
}
