// npm run org:add-member -- <organization code or name> <email> [role key]: adds someone who already has an account
// to an organization at Kinde (or the local Kinde server), through the Management API, as Kinde's dashboard would.
import { z } from "zod";
import { loadDotEnv } from "../app/lib/config/dotenv.server.ts";
import { EnvError, parseManagementEnv } from "../app/lib/config/env-schema.server.ts";
import { KINDE_ORG_CODE } from "../app/lib/kinde-sync/organization-facts.server.ts";
import {
  createKindeManagementClient,
  KindeManagementError,
  type KindeManagementClient,
} from "../app/lib/kinde-sync/management-api.server.ts";

const USAGE = "Usage: npm run org:add-member -- <organization code or name> <email> [role key, e.g. admin]";

function fail(message: string, code = 1): never {
  console.error(`org:add-member: ${message}`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const [organization, email, role] = args;
if (!organization || !email || args.length > 3) fail(USAGE, 2);
if (!z.email().safeParse(email).success) fail(`${email} is not an email address`, 2);

async function organizationCode(client: KindeManagementClient, organization: string): Promise<string> {
  if (KINDE_ORG_CODE.test(organization)) return organization;
  const named: string[] = [];
  for await (const page of client.listOrganizations()) {
    named.push(...page.filter((listed) => listed.name === organization).map((listed) => listed.code));
  }
  if (named.length === 0) fail(`Kinde has no organization called ${organization}`);
  if (named.length > 1)
    fail(`${named.length} organizations are called ${organization}; use a code: ${named.join(", ")}`);
  return named[0]!;
}

try {
  loadDotEnv();
  const client = createKindeManagementClient(parseManagementEnv(process.env));
  const userId = await client.findUserIdByEmail(email);
  if (!userId) fail(`Kinde has no user with the email ${email}: they sign up first`);
  const code = await organizationCode(client, organization);
  const added = await client.addMember(code, userId, role ? [role] : undefined);
  const where = `${organization}${code === organization ? "" : ` (${code})`}`;
  if (!added) console.log(`org:add-member: ${email} was already in ${where}; nothing changed.`);
  else console.log(`org:add-member: ${email} is in ${where}. It shows in their menu after their next sign-in.`);
} catch (error) {
  if (error instanceof EnvError || error instanceof KindeManagementError) fail(error.message);
  throw error;
}
