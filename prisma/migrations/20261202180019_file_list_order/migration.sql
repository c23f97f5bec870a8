-- DropIndex
DROP INDEX "encrypted_files_owner_id_created_at_idx";

-- CreateIndex
CREATE INDEX "encrypted_files_owner_id_created_at_id_idx" ON "encrypted_files"("owner_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "encrypted_files_created_at_id_idx" ON "encrypted_files"("created_at", "id");
