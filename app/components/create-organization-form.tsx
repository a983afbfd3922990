import { Form, useActionData } from "@remix-run/react";
import type { FormErrors } from "~/lib/forms";
import { TextField } from "./text-field";

interface ActionData {
  errors: FormErrors<"orgName">;
  values: Record<"orgName", string>;
}

/** Posts to /organizations/new, which checks the name and sends the person to Kinde's sign-up. */
export function CreateOrganizationForm({ large = false }: { large?: boolean }) {
  const actionData = useActionData<ActionData>();
  return (
    <Form method="post" action="/organizations/new" className="form inline-form" noValidate>
      <TextField
        name="orgName"
        label="Organization name"
        autoComplete="organization"
        defaultValue={actionData?.values?.orgName ?? ""}
        error={actionData?.errors?.orgName}
        required
      />
      <button type="submit" className={`button${large ? " button-large" : ""}`}>
        Create an organization
      </button>
    </Form>
  );
}
