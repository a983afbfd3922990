export interface Person {
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  picture: string | null;
}

export function displayName(person: Omit<Person, "picture">): string {
  const name = [person.firstName, person.lastName].filter(Boolean).join(" ");
  return name || person.email || "New user";
}

export function initials(person: Person): string {
  const letters = [person.firstName, person.lastName]
    .filter((part): part is string => Boolean(part))
    .map((part) => Array.from(part)[0] ?? "")
    .join("");
  return (letters || Array.from(person.email ?? "?")[0] || "?").toUpperCase();
}

export function Avatar({ person, size = "small" }: { person: Person; size?: "small" | "large" }) {
  const className = `avatar avatar-${size}`;
  if (person.picture) {
    return <img className={className} src={person.picture} alt="" referrerPolicy="no-referrer" />;
  }
  return (
    <span className={className} aria-hidden="true">
      {initials(person)}
    </span>
  );
}
