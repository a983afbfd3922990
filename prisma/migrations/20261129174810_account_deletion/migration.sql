-- CreateTable
CREATE TABLE "AccountDeletion" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kindeId" TEXT NOT NULL,
    "deletedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "AccountDeletion_kindeId_key" ON "AccountDeletion"("kindeId");

