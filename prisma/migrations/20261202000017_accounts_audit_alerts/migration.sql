/*
  Warnings:

  - You are about to drop the column `created_at` on the `alerts` table. All the data in the column will be lost.
  - You are about to drop the column `type` on the `alerts` table. All the data in the column will be lost.
  - You are about to drop the column `user_id` on the `alerts` table. All the data in the column will be lost.
  - Added the required column `rule` to the `alerts` table without a default value. This is not possible if the table is not empty.
  - Added the required column `subject_key` to the `alerts` table without a default value. This is not possible if the table is not empty.
  - Added the required column `window_start` to the `alerts` table without a default value. This is not possible if the table is not empty.

*/
-- AlterTable
ALTER TABLE "users" ADD COLUMN "last_login_at" DATETIME;

-- CreateTable
CREATE TABLE "audit_checkpoints" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "signature" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL DEFAULT 'checkpoint'
);

-- CreateTable
CREATE TABLE "leases" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_alerts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "rule" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "subject_user_id" TEXT,
    "subject_key" TEXT NOT NULL,
    "window_start" DATETIME NOT NULL,
    "message" TEXT NOT NULL,
    "details" TEXT NOT NULL DEFAULT '{}',
    "count" INTEGER NOT NULL DEFAULT 1,
    "first_seen_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" DATETIME,
    "acknowledged_by" TEXT
);
-- The previous alerts table was never written to; there is nothing to carry over.
DROP TABLE "alerts";
ALTER TABLE "new_alerts" RENAME TO "alerts";
CREATE INDEX "alerts_acknowledged_at_last_seen_at_idx" ON "alerts"("acknowledged_at", "last_seen_at");
CREATE UNIQUE INDEX "alerts_rule_subject_key_window_start_key" ON "alerts"("rule", "subject_key", "window_start");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "audit_checkpoints_seq_idx" ON "audit_checkpoints"("seq");
