import { randomUUID } from "node:crypto";

export interface Credentials {
  email: string;
  password: string;
}

export interface Person extends Credentials {
  firstName: string;
  lastName: string;
}

/** Someone who has never signed up: a unique email and last name on every call. */
export function newPerson(overrides: Partial<Person> = {}): Person {
  const id = randomUUID().slice(0, 8);
  return {
    email: `user-${id}@example.com`,
    password: "correct horse battery",
    firstName: "Ada",
    lastName: `Lovelace-${id}`,
    ...overrides,
  };
}

export function kindeFormFields(person: Person | Credentials, form: "sign-up" | "sign-in"): Record<string, string> {
  const credentials = { p_email: person.email, p_password: person.password };
  if (form === "sign-in" || !("firstName" in person)) return credentials;
  return { p_first_name: person.firstName, p_last_name: person.lastName, ...credentials };
}
