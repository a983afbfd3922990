// The org-scoped example: every query takes the organization first, so no id alone reaches another
// organization's rows (docs/decisions/0025-org-scoped-data.md).
import { prisma } from "~/lib/database/client.server";

export interface ProjectView {
  id: number;
  name: string;
  createdAt: Date;
  createdBy: { firstName: string | null; lastName: string | null; email: string | null } | null;
}

/** The list shows the newest this many; a product with more adds paging (as app/routes/members.tsx pages). */
export const PROJECTS_LISTED = 100;
const projectView = {
  id: true,
  name: true,
  createdAt: true,
  createdBy: { select: { firstName: true, lastName: true, email: true } },
} as const;

export function listProjects(organizationId: number): Promise<ProjectView[]> {
  return prisma.project.findMany({
    where: { organizationId },
    select: projectView,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: PROJECTS_LISTED,
  });
}

export function getProject(organizationId: number, id: number): Promise<ProjectView | null> {
  return prisma.project.findFirst({ where: { id, organizationId }, select: projectView });
}

export function createProject(organizationId: number, createdById: number, name: string): Promise<{ id: number }> {
  return prisma.project.create({ data: { organizationId, createdById, name }, select: { id: true } });
}

/** false when the project is not the organization's (or no longer exists). */
export async function renameProject(organizationId: number, id: number, name: string): Promise<boolean> {
  const { count } = await prisma.project.updateMany({ where: { id, organizationId }, data: { name } });
  return count === 1;
}

export async function deleteProject(organizationId: number, id: number): Promise<boolean> {
  const { count } = await prisma.project.deleteMany({ where: { id, organizationId } });
  return count === 1;
}
