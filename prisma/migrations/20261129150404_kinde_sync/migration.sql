-- CreateTable
CREATE TABLE "DeletedKindeIdentity" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kindeId" TEXT NOT NULL,
    "deletedAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "KindeWebhookEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "eventId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "occurredAt" DATETIME NOT NULL,
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kindeId" TEXT NOT NULL,
    "email" TEXT,
    "firstName" TEXT,
    "lastName" TEXT,
    "picture" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "lastSignInAt" DATETIME,
    "nameEditedAt" DATETIME,
    "suspendedAt" DATETIME,
    "kindeSyncedAt" DATETIME,
    "kindeSyncedFrom" TEXT
);
INSERT INTO "new_User" ("createdAt", "email", "firstName", "id", "kindeId", "lastName", "lastSignInAt", "nameEditedAt", "picture", "updatedAt") SELECT "createdAt", "email", "firstName", "id", "kindeId", "lastName", "lastSignInAt", "nameEditedAt", "picture", "updatedAt" FROM "User";
DROP TABLE "User";
ALTER TABLE "new_User" RENAME TO "User";
CREATE UNIQUE INDEX "User_kindeId_key" ON "User"("kindeId");
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE INDEX "User_createdAt_idx" ON "User"("createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "DeletedKindeIdentity_kindeId_key" ON "DeletedKindeIdentity"("kindeId");

-- CreateIndex
CREATE UNIQUE INDEX "KindeWebhookEvent_eventId_key" ON "KindeWebhookEvent"("eventId");

-- CreateIndex
CREATE INDEX "KindeWebhookEvent_occurredAt_idx" ON "KindeWebhookEvent"("occurredAt");

