-- AlterTable
ALTER TABLE "User" ADD COLUMN "nameEditedAt" DATETIME;

-- CreateIndex
CREATE INDEX "User_createdAt_idx" ON "User"("createdAt");

