// The one place that decides which database a DATABASE_URL names: docs/decisions/0018-postgresql-beside-sqlite.md.
export type DatabaseProvider = "sqlite" | "postgresql";

export const DATABASE_URL_RULE =
  "must be a SQLite file URL such as file:./data/dev.db or a PostgreSQL URL such as postgresql://user:password@host:5432/app";

export function providerOf(url: string | undefined): DatabaseProvider | null {
  if (url === undefined) return null;
  if (/^file:.+/.test(url)) return "sqlite";
  if (/^postgres(ql)?:\/\/.+/.test(url)) return "postgresql";
  return null;
}

export function databaseProvider(url: string): DatabaseProvider {
  const provider = providerOf(url);
  if (provider === null) throw new Error(`DATABASE_URL ${DATABASE_URL_RULE}`);
  return provider;
}

export const sqliteFile = (url: string): string => url.replace(/^file:/, "");

export const isPostgresUrl = (url: string | undefined): boolean => providerOf(url) === "postgresql";

export function redactDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
