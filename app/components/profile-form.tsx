import { Form, useActionData, useNavigation } from "@remix-run/react";
import type { ProfileErrors } from "~/lib/forms";
import { TextField } from "./text-field";

interface ActionData {
  errors?: ProfileErrors;
  values?: Record<string, string>;
}

const NAME_FIELDS = [
  { name: "firstName", label: "First name", autoComplete: "given-name" },
  { name: "lastName", label: "Last name", autoComplete: "family-name" },
] as const;

// A plain <Form method="post">: a full-page POST and redirect without JavaScript, in the background with it.
export function ProfileForm({
  profile,
}: {
  profile: { firstName: string | null; lastName: string | null; nameEditedHere: boolean };
}) {
  const actionData = useActionData<ActionData>();
  const navigation = useNavigation();
  const saving = navigation.state !== "idle" && navigation.formData?.get("intent") === "update-profile";
  const errors = actionData?.errors ?? {};
  const values = actionData?.values;

  return (
    <section className="card" aria-labelledby="edit-title">
      <h2 id="edit-title">Edit your profile</h2>
      <Form method="post" className="form" noValidate>
        <div className="form-row">
          {NAME_FIELDS.map(({ name, label, autoComplete }) => (
            <TextField
              key={name}
              name={name}
              label={label}
              autoComplete={autoComplete}
              defaultValue={values?.[name] ?? profile[name] ?? ""}
              error={errors[name]}
            />
          ))}
        </div>
        <p className="hint">
          {profile.nameEditedHere
            ? "You edited your name here, so it stays: changes made at Kinde no longer replace it."
            : "Until you edit it here, your name follows Kinde: a change made there shows here too."}
        </p>
        <div className="actions">
          <button type="submit" name="intent" value="update-profile" className="button" disabled={saving}>
            {saving ? "Saving…" : "Save profile"}
          </button>
        </div>
      </Form>
      {profile.nameEditedHere ? (
        <Form method="post">
          <button type="submit" name="intent" value="reset-name" className="button button-quiet">
            Use my name from Kinde again
          </button>
        </Form>
      ) : null}
    </section>
  );
}
