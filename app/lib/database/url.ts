/**
 * Which database a DATABASE_URL names: `file:` is SQLite, `postgres://` or `postgresql://` is
 * PostgreSQL (docs/decisions/0018-postgresql-beside-sqlite.md). The app, the Prisma CLI config
 * and the stack starter all decide by this one function.
 */
export type DatabaseProvider = "sqlite" | "postgresql";

export function databaseProvider(url: string): DatabaseProvider {
  if (/^file:.+/.test(url)) return "sqlite";
  if (/^postgres(ql)?:\/\/.+/.test(url)) return "postgresql";
  throw new Error("DATABASE_URL must be a SQLite file URL (file:./data/dev.db) or a PostgreSQL URL (postgresql://...)");
}

export const isPostgresUrl = (url: string | undefined): boolean => url !== undefined && /^postgres(ql)?:\/\//.test(url);

/** The URL with its password replaced, for logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
