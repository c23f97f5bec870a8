/*
  Warnings:

  - A unique constraint covering the columns `[username_key]` on the table `users` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterTable
ALTER TABLE "users" ADD COLUMN "username_key" TEXT;

-- Existing accounts get their folded name; two that differ only by case make this
-- migration fail, and an operator must rename one first.
UPDATE "users" SET "username_key" = lower("username");

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key_key" ON "users"("username_key");
