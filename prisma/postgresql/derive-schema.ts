/**
 * prisma/postgresql/schema.prisma is derived from prisma/schema.prisma, the one schema source:
 * the same models, with the PostgreSQL provider and its own generated client. Prisma needs a
 * literal provider per schema file (docs/decisions/0018-postgresql-beside-sqlite.md).
 */
export const SQLITE_SCHEMA = "prisma/schema.prisma";
export const POSTGRES_SCHEMA_FILE = "prisma/postgresql/schema.prisma";

const HEADER = `// GENERATED from prisma/schema.prisma by \`npm run db:new-migration\`: edit that file, not this one.
// The same models on PostgreSQL (docs/decisions/0018-postgresql-beside-sqlite.md).

`;

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, "g")) ?? [];
  if (matches.length !== 1) throw new Error(`${SQLITE_SCHEMA}: expected exactly one ${what}, found ${matches.length}`);
  return text.replace(pattern, replacement);
}

export function postgresSchemaFrom(sqliteSchema: string): string {
  let schema = replaceOnce(sqliteSchema, /provider\s*=\s*"sqlite"/, 'provider = "postgresql"', 'provider = "sqlite"');
  schema = replaceOnce(
    schema,
    /output(\s*)=\s*"\.\.\/app\/generated\/prisma"/,
    'output$1= "../../app/generated/prisma-postgresql"',
    'output = "../app/generated/prisma"',
  );
  return HEADER + schema;
}
