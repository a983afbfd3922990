// Every form's rules, checked on the server; names follow common/names.ts, as do names received from Kinde.
import { z } from "zod";
import { NAME_MAX_LENGTH, nameProblem, normalizeName } from "../../common/names.ts";

const MESSAGES = {
  "too-long": `must be at most ${NAME_MAX_LENGTH} characters.`,
  "forbidden-characters": "contains characters that are not allowed.",
} as const;

const nameField = (label: string, { required }: { required: boolean }) => {
  const text = required ? z.string({ error: `${label} is required.` }) : z.string().default("");
  const base = text.transform(normalizeName).superRefine((value, context) => {
    const problem = nameProblem(value);
    if (problem) context.addIssue({ code: "custom", message: `${label} ${MESSAGES[problem]}` });
  });
  return required ? base.pipe(z.string().min(1, `${label} is required.`)) : base;
};

export type FormErrors<Field extends string> = Partial<Record<Field, string>>;
export type FormResult<Data, Field extends string> =
  { ok: true; data: Data } | { ok: false; errors: FormErrors<Field>; values: Record<Field, string> };

function parseForm<Schema extends z.ZodType, Field extends string>(
  schema: Schema,
  form: FormData,
  fields: readonly Field[],
): FormResult<z.output<Schema>, Field> {
  const raw = Object.fromEntries(
    fields.map((field) => {
      const value = form.get(field);
      return [field, typeof value === "string" ? value : undefined];
    }),
  ) as Record<Field, string | undefined>;
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, data: result.data };
  const errors: FormErrors<Field> = {};
  for (const issue of result.error.issues) {
    const field = issue.path[0] as Field | undefined;
    if (field && !errors[field]) errors[field] = issue.message;
  }
  // Echo the input back (cut to a sane size) so the person can fix it rather than retype it.
  const values = Object.fromEntries(fields.map((field) => [field, (raw[field] ?? "").slice(0, 200)]));
  return { ok: false, errors, values: values as Record<Field, string> };
}

const profileSchema = z.object({
  firstName: nameField("First name", { required: true }),
  lastName: nameField("Last name", { required: false }).transform((value) => value || null),
});
export type ProfileErrors = FormErrors<"firstName" | "lastName">;
export const parseProfile = (form: FormData) => parseForm(profileSchema, form, ["firstName", "lastName"] as const);

const projectSchema = z.object({ name: nameField("Project name", { required: true }) });
export const parseProjectName = (form: FormData) => parseForm(projectSchema, form, ["name"] as const);

const organizationSchema = z.object({ orgName: nameField("Organization name", { required: true }) });
export const parseOrganizationName = (form: FormData) => parseForm(organizationSchema, form, ["orgName"] as const);
