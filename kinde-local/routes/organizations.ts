import { z } from "zod";
import { rolesByKey, type ClaimsConfig } from "../config.ts";
import { emitOrganizationEvent, type AppContext, type Handler, type RequestContext } from "../context.ts";
import { HttpError, parseWith, readJson, sendJson } from "../http.ts";
import {
  addMember,
  createOrganization,
  findOrganization,
  listOrganizations,
  membershipsOf,
  orgNameError,
  roleAccess,
  type Membership,
  type Organization,
} from "../organizations.ts";
import type { StoredUser } from "../store.ts";
import { normalizeName } from "../validation.ts";
import { after, decodeCursor, encodeCursor, managementAuthorizer, pageQuery } from "./management.ts";

/** The organization endpoints of Kinde's Management API; shapes from its OpenAPI document (README.md). */

const USER_ID = /^kp_[0-9a-f]{32}$/;
const OK = { code: "OK", message: "Success" };

const orgName = z
  .string()
  .max(1000)
  .transform(normalizeName)
  .superRefine((value, context) => {
    const problem = orgNameError(value);
    if (problem) context.addIssue({ code: "custom", message: problem });
  });

const addUsersBody = z.object({
  users: z
    .array(
      z.object({
        id: z.string().max(100),
        roles: z.array(z.string().max(100)).max(50).optional(),
        permissions: z.array(z.string().max(100)).max(100).optional(),
      }),
    )
    .min(1)
    .max(100),
});

function pageSizeOf(query: z.output<typeof pageQuery>): number {
  const size = query.page_size === undefined ? 10 : Number(query.page_size);
  if (size < 1 || size > 500) throw new HttpError(400, "INVALID_REQUEST", "page_size must be from 1 to 500");
  return size;
}

function orgCursor(organization: Organization): string {
  return Buffer.from(`${organization.createdAt}|${organization.code}`).toString("base64url");
}

function afterOrgCursor(organization: Organization, token: string): boolean {
  const [createdAt, code, extra] = Buffer.from(token, "base64url").toString("utf8").split("|");
  if (!createdAt || !code || extra !== undefined) {
    throw new HttpError(400, "INVALID_REQUEST", "next_token: is not a token from a previous page");
  }
  return organization.createdAt > createdAt || (organization.createdAt === createdAt && organization.code > code);
}

function kindeOrganization(organization: Organization, config: ClaimsConfig) {
  return {
    code: organization.code,
    name: organization.name,
    handle: null,
    is_default: organization.code === config.defaults.org_code,
    external_id: null,
    is_auto_membership_enabled: false,
  };
}

export function organizationRoutes(app: AppContext) {
  const authorize = managementAuthorizer(app);

  const organizationOf = (config: ClaimsConfig, code: string | undefined) => {
    const organization = code === undefined ? undefined : findOrganization(config, app.store, code);
    if (!organization) throw new HttpError(404, "ORGANIZATION_NOT_FOUND", "No organization with this code");
    return organization;
  };

  const memberOf = (config: ClaimsConfig, code: string, userId: string) => {
    const user = USER_ID.test(userId) ? app.store.getUser(userId) : undefined;
    if (!user) throw new HttpError(404, "USER_NOT_FOUND", "No user with this id");
    const membership = membershipsOf(config, app.store, user).find((entry) => entry.orgCode === code);
    return { user, membership };
  };

  const notMember = () =>
    new HttpError(400, "USER_NOT_IN_ORGANIZATION", "The user is not a member of this organization");

  async function listMembers(context: RequestContext, config: ClaimsConfig, code: string) {
    await authorize(context, "read:organization_users");
    organizationOf(config, code);
    const query = parseWith(pageQuery, context.query.pick(["page_size", "next_token"]));
    const pageSize = pageSizeOf(query);
    const cursor = query.next_token === undefined ? undefined : decodeCursor(query.next_token);
    const members = app.store.listUsers().flatMap((user): { user: StoredUser; membership: Membership }[] => {
      if (cursor && !after(user, cursor)) return [];
      const membership = membershipsOf(config, app.store, user).find((entry) => entry.orgCode === code);
      return membership ? [{ user, membership }] : [];
    });
    const page = members.slice(0, pageSize);
    const last = page.at(-1);
    sendJson(context.response, 200, {
      ...OK,
      organization_users: page.map(({ user, membership }) => ({
        id: user.id,
        email: user.email,
        full_name: [user.givenName, user.familyName].filter(Boolean).join(" "),
        last_name: user.familyName,
        first_name: user.givenName,
        picture: user.picture,
        joined_on: user.createdAt,
        last_accessed_on: user.lastSignedInAt,
        is_suspended: user.isSuspended,
        roles: membership.roles.map((role) => role.key),
      })),
      next_token: members.length > pageSize && last ? encodeCursor(last.user) : null,
    });
  }

  async function addMembers(context: RequestContext, config: ClaimsConfig, code: string) {
    await authorize(context, "create:organization_users");
    organizationOf(config, code);
    const body = parseWith(addUsersBody, await readJson(context.request));
    const added: string[] = [];
    for (const entry of body.users) {
      const { user, membership } = memberOf(config, code, entry.id);
      if (membership) continue;
      // No roles given: config.json's default roles, as Kinde gives its "default roles" to new members.
      const keys = entry.roles ?? config.defaults.roles ?? [];
      const unknown = keys.find((key) => !config.roles.some((role) => role.key === key));
      if (unknown !== undefined) throw new HttpError(400, "ROLE_INVALID", `No role with the key ${unknown}`);
      await addMember(app.store, code, user.id, roleAccess(rolesByKey(config, keys), entry.permissions));
      added.push(user.id);
    }
    sendJson(context.response, 200, { ...OK, users_added: added });
  }

  async function removeMember(context: RequestContext, config: ClaimsConfig, code: string, userId: string) {
    await authorize(context, "delete:organization_users");
    organizationOf(config, code);
    const { user, membership } = memberOf(config, code, userId);
    if (!membership) throw notMember();
    await app.store.putMembership({ orgCode: code, userId: user.id, roles: [], permissions: [], removed: true });
    app.log(`removed user ${user.id} from organization ${code}`);
    sendJson(context.response, 200, OK);
  }

  async function memberRoles(context: RequestContext, config: ClaimsConfig, code: string, userId: string) {
    const adding = context.request.method === "POST";
    await authorize(context, adding ? "create:organization_user_roles" : "read:organization_user_roles");
    organizationOf(config, code);
    const { user, membership } = memberOf(config, code, userId);
    if (!membership) throw notMember();
    if (!adding) return sendJson(context.response, 200, { ...OK, roles: membership.roles, next_token: null });
    const { role_id: roleId } = parseWith(
      z.object({ role_id: z.string().min(1).max(100) }),
      await readJson(context.request),
    );
    const role = config.roles.find((candidate) => candidate.id === roleId);
    if (!role) throw new HttpError(400, "ROLE_INVALID", "No role with this id");
    if (!membership.roles.some((existing) => existing.id === role.id)) {
      const gained = roleAccess([role], membership.permissions);
      await addMember(app.store, code, user.id, { ...gained, roles: [...membership.roles, ...gained.roles] });
    }
    sendJson(context.response, 200, OK);
  }

  return {
    async getOrganization(context) {
      await authorize(context, "read:organizations");
      const config = await app.config.current();
      const code = context.query.get("code");
      if (!code) throw new HttpError(400, "CODE_MISSING", "The code parameter is required");
      sendJson(context.response, 200, kindeOrganization(organizationOf(config, code), config));
    },

    async createOrganization(context) {
      await authorize(context, "create:organizations");
      const body = parseWith(z.object({ name: orgName }), await readJson(context.request));
      const organization = await createOrganization(app.store, body.name, app.clock());
      app.log(`created organization ${organization.code}`);
      await emitOrganizationEvent(app, "organization.created", "api", organization);
      sendJson(context.response, 200, { ...OK, organization: { code: organization.code } });
    },

    async listOrganizations(context) {
      await authorize(context, "read:organizations");
      const config = await app.config.current();
      const query = parseWith(pageQuery, context.query.pick(["page_size", "next_token"]));
      const pageSize = pageSizeOf(query);
      const token = query.next_token;
      const matching = listOrganizations(config, app.store).filter(
        (organization) => token === undefined || afterOrgCursor(organization, token),
      );
      const page = matching.slice(0, pageSize);
      const last = page.at(-1);
      sendJson(context.response, 200, {
        ...OK,
        organizations: page.map((organization) => kindeOrganization(organization, config)),
        next_token: matching.length > pageSize && last ? orgCursor(last) : null,
      });
    },

    /** /api/v1/organization/{code} and /api/v1/organizations/{code}/users[/{id}[/roles]]. */
    async byPath(context) {
      const config = await app.config.current();
      const method = context.request.method === "HEAD" ? "GET" : context.request.method;
      const parts = context.path.split("/").slice(3).map(decodePathPart);
      const [collection, code = "", users, userId, roles, ...rest] = parts;
      if (collection === "organization" && parts.length === 2) {
        if (method === "PATCH") return updateOrganization(context, config, code);
        if (method === "DELETE") return deleteOrganization(context, config, code);
        throw methodNotAllowed("PATCH, DELETE");
      }
      if (collection === "organizations" && users === "users" && rest.length === 0) {
        if (userId === undefined) {
          if (method === "GET") return listMembers(context, config, code);
          if (method === "POST") return addMembers(context, config, code);
          throw methodNotAllowed("GET, HEAD, POST");
        }
        if (roles === undefined) {
          if (method === "DELETE") return removeMember(context, config, code, userId);
          throw methodNotAllowed("DELETE");
        }
        if (roles === "roles") {
          if (method === "GET" || method === "POST") return memberRoles(context, config, code, userId);
          throw methodNotAllowed("GET, HEAD, POST");
        }
      }
      throw new HttpError(404, "ROUTE_NOT_FOUND", "The requested API route does not exist");
    },
  } satisfies Record<string, Handler>;

  async function updateOrganization(context: RequestContext, config: ClaimsConfig, code: string) {
    await authorize(context, "update:organizations");
    const organization = organizationOf(config, code);
    const body = parseWith(z.object({ name: orgName.optional() }), await readJson(context.request));
    if (body.name !== undefined && body.name !== organization.name) {
      const updated = { ...organization, name: body.name };
      await app.store.putOrganization({ ...updated, deleted: false });
      await emitOrganizationEvent(app, "organization.updated", "api", updated);
    }
    sendJson(context.response, 200, OK);
  }

  async function deleteOrganization(context: RequestContext, config: ClaimsConfig, code: string) {
    await authorize(context, "delete:organizations");
    const organization = organizationOf(config, code);
    if (code === config.defaults.org_code) {
      throw new HttpError(400, "DEFAULT_ORGANIZATION_CANNOT_BE_DELETED", "The default organization cannot be deleted");
    }
    await app.store.putOrganization({ ...organization, deleted: true });
    app.log(`deleted organization ${code}`);
    await emitOrganizationEvent(app, "organization.deleted", "api", { code });
    sendJson(context.response, 200, OK);
  }
}

function methodNotAllowed(allowed: string): HttpError {
  return new HttpError(405, "METHOD_NOT_ALLOWED", "Method not allowed", { Allow: allowed });
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, "INVALID_REQUEST", "The address is not correctly encoded");
  }
}
