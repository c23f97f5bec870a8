-- DropIndex
DROP INDEX "refresh_tokens_family_id_idx";

-- CreateIndex
CREATE INDEX "refresh_tokens_family_id_user_id_idx" ON "refresh_tokens"("family_id", "user_id");
