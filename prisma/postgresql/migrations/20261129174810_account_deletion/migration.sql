-- CreateTable
CREATE TABLE "AccountDeletion" (
    "id" SERIAL NOT NULL,
    "kindeId" TEXT NOT NULL,
    "deletedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccountDeletion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AccountDeletion_kindeId_key" ON "AccountDeletion"("kindeId");

