// npm run db:users: the stored users formatted as a table or JSON (scripts/db-users.ts reads them).
import type { User } from "~/models/user.server";

export interface UserReportRow {
  kindeId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  createdAt: string;
  lastSignInAt: string | null;
  suspendedAt: string | null;
}

export function reportRows(users: User[]): UserReportRow[] {
  return users.map((user) => ({
    kindeId: user.kindeId,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    createdAt: user.createdAt.toISOString(),
    lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
    suspendedAt: user.suspendedAt?.toISOString() ?? null,
  }));
}

const COLUMNS: { title: string; value: (row: UserReportRow) => string; max: number }[] = [
  { title: "Kinde id", value: (row) => row.kindeId, max: 40 },
  { title: "Email", value: (row) => row.email ?? "-", max: 40 },
  { title: "First name", value: (row) => row.firstName ?? "-", max: 24 },
  { title: "Last name", value: (row) => row.lastName ?? "-", max: 24 },
  { title: "Created (UTC)", value: (row) => minutes(row.createdAt), max: 16 },
  { title: "Last sign-in (UTC)", value: (row) => (row.lastSignInAt ? minutes(row.lastSignInAt) : "never"), max: 18 },
  { title: "Suspended", value: (row) => (row.suspendedAt ? `since ${minutes(row.suspendedAt)}` : "no"), max: 22 },
];

function minutes(iso: string): string {
  return iso.slice(0, 16).replace("T", " ");
}

function cell(text: string, max: number): string {
  const characters = Array.from(text.replace(/\p{Cc}/gu, "?"));
  return characters.length > max ? `${characters.slice(0, max - 1).join("")}…` : characters.join("");
}

export function formatUsersTable(rows: UserReportRow[]): string {
  if (rows.length === 0) return "No users stored yet: sign up in the app, then run this again.";
  const cells = rows.map((row) => COLUMNS.map((column) => cell(column.value(row), column.max)));
  const widths = COLUMNS.map((column, index) =>
    Math.max(column.title.length, ...cells.map((line) => Array.from(line[index] ?? "").length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, index) => value + " ".repeat((widths[index] ?? 0) - Array.from(value).length))
      .join("  ")
      .trimEnd();
  return [
    line(COLUMNS.map((column) => column.title)),
    line(widths.map((width) => "-".repeat(width))),
    ...cells.map(line),
    "",
    `${rows.length} ${rows.length === 1 ? "user" : "users"}`,
  ].join("\n");
}
