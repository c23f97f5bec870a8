-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_rotation_jobs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL DEFAULT 'kek',
    "from_key_id" TEXT,
    "to_key_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "running_lock" TEXT,
    "owner" TEXT,
    "lease_until" DATETIME,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "rewrapped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "before_counts" TEXT NOT NULL DEFAULT '{}',
    "cursor" TEXT,
    "error" TEXT,
    "created_by" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" DATETIME,
    "finished_at" DATETIME
);
INSERT INTO "new_rotation_jobs" ("created_at", "cursor", "done", "error", "failed", "finished_at", "from_key_id", "id", "kind", "started_at", "status", "to_key_id", "total") SELECT "created_at", "cursor", "done", "error", "failed", "finished_at", "from_key_id", "id", "kind", "started_at", "status", "to_key_id", "total" FROM "rotation_jobs";
DROP TABLE "rotation_jobs";
ALTER TABLE "new_rotation_jobs" RENAME TO "rotation_jobs";
CREATE UNIQUE INDEX "rotation_jobs_running_lock_key" ON "rotation_jobs"("running_lock");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
