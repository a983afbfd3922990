-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "kindeId" TEXT NOT NULL,
    "email" TEXT,
    "firstName" TEXT,
    "lastName" TEXT,
    "picture" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastSignInAt" TIMESTAMP(3),
    "nameEditedAt" TIMESTAMP(3),
    "suspendedAt" TIMESTAMP(3),
    "kindeSyncedAt" TIMESTAMP(3),
    "kindeSyncedFrom" TEXT,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeletedKindeIdentity" (
    "id" SERIAL NOT NULL,
    "kindeId" TEXT NOT NULL,
    "deletedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DeletedKindeIdentity_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KindeWebhookEvent" (
    "id" SERIAL NOT NULL,
    "eventId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KindeWebhookEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_kindeId_key" ON "User"("kindeId");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "User_createdAt_idx" ON "User"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "DeletedKindeIdentity_kindeId_key" ON "DeletedKindeIdentity"("kindeId");

-- CreateIndex
CREATE UNIQUE INDEX "KindeWebhookEvent_eventId_key" ON "KindeWebhookEvent"("eventId");

-- CreateIndex
CREATE INDEX "KindeWebhookEvent_occurredAt_idx" ON "KindeWebhookEvent"("occurredAt");

