-- AlterTable
ALTER TABLE "rotation_jobs" ADD COLUMN "last_batch" TEXT;
