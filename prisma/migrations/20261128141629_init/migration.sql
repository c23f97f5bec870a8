-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "public_key" TEXT,
    "public_key_fingerprint" TEXT,
    "key_algorithm" TEXT,
    "key_generated_at" DATETIME,
    "token_version" INTEGER NOT NULL DEFAULT 0,
    "failed_login_count" INTEGER NOT NULL DEFAULT 0,
    "failed_login_window_at" DATETIME,
    "locked_until" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "encrypted_files" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "owner_id" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "description" TEXT,
    "blob_key" TEXT NOT NULL,
    "wrapped_key" BLOB,
    "wrapped_key_version" INTEGER NOT NULL DEFAULT 1,
    "kek_id" TEXT,
    "encryption_key" BLOB,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" DATETIME,
    CONSTRAINT "encrypted_files_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "access_requests" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "file_id" TEXT NOT NULL,
    "consultant_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT NOT NULL,
    "decision_reason" TEXT,
    "open_key" TEXT,
    "wrapped_symmetric_key" BLOB,
    "consultant_key_fingerprint" TEXT,
    "expires_at" DATETIME,
    "max_downloads" INTEGER,
    "download_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" DATETIME,
    "processed_by" TEXT,
    CONSTRAINT "access_requests_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "encrypted_files" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "access_requests_consultant_id_fkey" FOREIGN KEY ("consultant_id") REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "access_requests_processed_by_fkey" FOREIGN KEY ("processed_by") REFERENCES "users" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "crypto_logs" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "user_id" TEXT,
    "operation" TEXT NOT NULL,
    "details" TEXT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "timestamp" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip_address" TEXT,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "type" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "user_id" TEXT,
    "details" TEXT NOT NULL DEFAULT '{}',
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" DATETIME,
    "acknowledged_by" TEXT
);

-- CreateTable
CREATE TABLE "refresh_tokens" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "used_at" DATETIME,
    "revoked_at" DATETIME,
    "replaced_by" TEXT,
    CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "rotation_jobs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL DEFAULT 'kek',
    "from_key_id" TEXT,
    "to_key_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cursor" TEXT,
    "error" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" DATETIME,
    "finished_at" DATETIME
);

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "count" INTEGER NOT NULL,
    "reset_at" BIGINT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE UNIQUE INDEX "encrypted_files_blob_key_key" ON "encrypted_files"("blob_key");

-- CreateIndex
CREATE INDEX "encrypted_files_owner_id_created_at_idx" ON "encrypted_files"("owner_id", "created_at");

-- CreateIndex
CREATE INDEX "encrypted_files_kek_id_idx" ON "encrypted_files"("kek_id");

-- CreateIndex
CREATE UNIQUE INDEX "access_requests_open_key_key" ON "access_requests"("open_key");

-- CreateIndex
CREATE INDEX "access_requests_file_id_status_idx" ON "access_requests"("file_id", "status");

-- CreateIndex
CREATE INDEX "access_requests_consultant_id_status_idx" ON "access_requests"("consultant_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "crypto_logs_id_key" ON "crypto_logs"("id");

-- CreateIndex
CREATE UNIQUE INDEX "crypto_logs_prev_hash_key" ON "crypto_logs"("prev_hash");

-- CreateIndex
CREATE INDEX "crypto_logs_timestamp_idx" ON "crypto_logs"("timestamp");

-- CreateIndex
CREATE INDEX "crypto_logs_operation_timestamp_idx" ON "crypto_logs"("operation", "timestamp");

-- CreateIndex
CREATE INDEX "crypto_logs_user_id_timestamp_idx" ON "crypto_logs"("user_id", "timestamp");

-- CreateIndex
CREATE INDEX "alerts_acknowledged_at_created_at_idx" ON "alerts"("acknowledged_at", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "refresh_tokens_family_id_idx" ON "refresh_tokens"("family_id");

-- CreateIndex
CREATE INDEX "refresh_tokens_user_id_idx" ON "refresh_tokens"("user_id");
