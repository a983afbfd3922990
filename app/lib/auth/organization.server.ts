// requireOrganization: the organization a request acts in, and what the person may do there
// (docs/decisions/0025-org-scoped-data.md).
import { data } from "@remix-run/node";
import type { OrganizationProblem } from "~/components/organization-problem";
import { getMembership } from "~/models/organization.server";
import { privatePage } from "../http/responses.server";
import { requireUser, type RequestArgs } from "./session.server";

export interface CurrentOrganization {
  id: number;
  kindeCode: string;
  name: string;
}

const forbidden = (problem: OrganizationProblem, headers: Headers) =>
  data(problem, { status: 403, headers: privatePage(headers) });

/**
 * The current organization is the verified access token's `org_code`, never a URL, form field or
 * cookie of ours; the app must still hold the membership, so a removal it has heard of (webhook,
 * users:sync) ends access at once. `permission`: one of that organization's, from the same token.
 */
export async function requireOrganization(args: RequestArgs, permission?: string) {
  const auth = await requireUser(args);
  const code = auth.claims.orgCode;
  if (!code) throw forbidden({ problem: "no-organization" }, auth.headers);
  const membership = await getMembership(auth.user.id, code);
  const name = membership?.organization.name ?? auth.claims.orgName ?? code;
  if (!membership) throw forbidden({ problem: "not-a-member", organization: name }, auth.headers);
  const can = (wanted: string) => auth.claims.permissions.includes(wanted);
  if (permission && !can(permission)) {
    throw forbidden({ problem: "permission", organization: name, permission }, auth.headers);
  }
  const organization: CurrentOrganization = { id: membership.organization.id, kindeCode: code, name };
  return { ...auth, organization, can };
}
