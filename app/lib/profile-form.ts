// The profile form's rules: names follow common/names.ts, as do names received from Kinde.
import { z } from "zod";
import { NAME_MAX_LENGTH, nameProblem, normalizeName } from "../../common/names.ts";

const MESSAGES = {
  "too-long": `must be at most ${NAME_MAX_LENGTH} characters.`,
  "forbidden-characters": "contains characters that are not allowed.",
} as const;

const name = (label: string, { required }: { required: boolean }) => {
  const base = z
    .string({ error: `${label} is required.` })
    .transform(normalizeName)
    .superRefine((value, context) => {
      const problem = nameProblem(value);
      if (problem) context.addIssue({ code: "custom", message: `${label} ${MESSAGES[problem]}` });
    });
  return required ? base.pipe(z.string().min(1, `${label} is required.`)) : base;
};

export const profileSchema = z.object({
  firstName: name("First name", { required: true }),
  lastName: name("Last name", { required: false }).transform((value) => value || null),
});

export type ProfileInput = z.input<typeof profileSchema>;
export type ProfileErrors = Partial<Record<keyof ProfileInput, string>>;

export function parseProfile(
  form: FormData,
):
  | { ok: true; data: z.output<typeof profileSchema> }
  | { ok: false; errors: ProfileErrors; values: Record<string, string> } {
  const raw = {
    firstName: typeof form.get("firstName") === "string" ? (form.get("firstName") as string) : undefined,
    lastName: typeof form.get("lastName") === "string" ? (form.get("lastName") as string) : "",
  };
  const result = profileSchema.safeParse(raw);
  if (result.success) return { ok: true, data: result.data };
  const errors: ProfileErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path[0] as keyof ProfileInput | undefined;
    if (field && !errors[field]) errors[field] = issue.message;
  }
  // Echo the input back (cut to a sane size) so the person can fix it rather than retype it.
  const values = { firstName: (raw.firstName ?? "").slice(0, 200), lastName: raw.lastName.slice(0, 200) };
  return { ok: false, errors, values };
}
