-- CreateEnum
CREATE TYPE "UserRole" AS ENUM ('organization', 'consultant', 'admin');

-- CreateEnum
CREATE TYPE "UserStatus" AS ENUM ('active', 'disabled', 'erased');

-- CreateEnum
CREATE TYPE "EncryptionAlgorithm" AS ENUM ('aes-256-gcm', 'chacha20-poly1305', 'des', 'rc4');

-- CreateEnum
CREATE TYPE "AccessRequestStatus" AS ENUM ('pending', 'approved', 'suspended', 'denied', 'revoked', 'expired');

-- CreateEnum
CREATE TYPE "AlertRule" AS ENUM ('failed_logins', 'unusual_access', 'keygen_failure', 'key_store_unavailable', 'unauthorized_access', 'mass_download');

-- CreateEnum
CREATE TYPE "AlertSeverity" AS ENUM ('info', 'warning', 'critical');

-- CreateEnum
CREATE TYPE "RotationStatus" AS ENUM ('running', 'completed', 'failed');

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "username_key" TEXT,
    "password_hash" TEXT NOT NULL,
    "role" "UserRole" NOT NULL,
    "status" "UserStatus" NOT NULL DEFAULT 'active',
    "public_key" TEXT,
    "public_key_fingerprint" TEXT,
    "key_algorithm" TEXT,
    "key_generated_at" TIMESTAMP(3),
    "token_version" INTEGER NOT NULL DEFAULT 0,
    "failed_login_count" INTEGER NOT NULL DEFAULT 0,
    "failed_login_window_at" TIMESTAMP(3),
    "locked_until" TIMESTAMP(3),
    "last_login_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "encrypted_files" (
    "id" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "algorithm" "EncryptionAlgorithm" NOT NULL,
    "description" TEXT,
    "blob_key" TEXT NOT NULL,
    "wrapped_key" BYTEA,
    "wrapped_key_version" INTEGER NOT NULL DEFAULT 1,
    "kek_id" TEXT,
    "encryption_key" BYTEA,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMP(3),

    CONSTRAINT "encrypted_files_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_requests" (
    "id" TEXT NOT NULL,
    "file_id" TEXT NOT NULL,
    "consultant_id" TEXT NOT NULL,
    "status" "AccessRequestStatus" NOT NULL DEFAULT 'pending',
    "reason" TEXT NOT NULL,
    "decision_reason" TEXT,
    "open_key" TEXT,
    "wrapped_symmetric_key" BYTEA,
    "consultant_key_fingerprint" TEXT,
    "expires_at" TIMESTAMP(3),
    "max_downloads" INTEGER,
    "download_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMP(3),
    "processed_by" TEXT,

    CONSTRAINT "access_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crypto_logs" (
    "seq" SERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "user_id" TEXT,
    "operation" TEXT NOT NULL,
    "details" TEXT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "timestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip_address" TEXT,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "crypto_logs_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" TEXT NOT NULL,
    "rule" "AlertRule" NOT NULL,
    "severity" "AlertSeverity" NOT NULL,
    "subject_user_id" TEXT,
    "subject_key" TEXT NOT NULL,
    "window_start" TIMESTAMP(3) NOT NULL,
    "message" TEXT NOT NULL,
    "details" TEXT NOT NULL DEFAULT '{}',
    "count" INTEGER NOT NULL DEFAULT 1,
    "first_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" TIMESTAMP(3),
    "acknowledged_by" TEXT,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_checkpoints" (
    "id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "signature" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL DEFAULT 'checkpoint',

    CONSTRAINT "audit_checkpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leases" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "leases_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "refresh_tokens" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),
    "replaced_by" TEXT,

    CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rotation_jobs" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'kek',
    "from_key_id" TEXT,
    "to_key_id" TEXT NOT NULL,
    "status" "RotationStatus" NOT NULL DEFAULT 'running',
    "running_lock" TEXT,
    "owner" TEXT,
    "lease_until" TIMESTAMP(3),
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "rewrapped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "before_counts" TEXT NOT NULL DEFAULT '{}',
    "cursor" TEXT,
    "last_batch" TEXT,
    "error" TEXT,
    "created_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "rotation_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "reset_at" BIGINT NOT NULL,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key_key" ON "users"("username_key");

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
CREATE INDEX "alerts_acknowledged_at_last_seen_at_idx" ON "alerts"("acknowledged_at", "last_seen_at");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_rule_subject_key_window_start_key" ON "alerts"("rule", "subject_key", "window_start");

-- CreateIndex
CREATE INDEX "audit_checkpoints_seq_idx" ON "audit_checkpoints"("seq");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "refresh_tokens_family_id_idx" ON "refresh_tokens"("family_id");

-- CreateIndex
CREATE INDEX "refresh_tokens_user_id_idx" ON "refresh_tokens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "rotation_jobs_running_lock_key" ON "rotation_jobs"("running_lock");

-- AddForeignKey
ALTER TABLE "encrypted_files" ADD CONSTRAINT "encrypted_files_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "encrypted_files"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_consultant_id_fkey" FOREIGN KEY ("consultant_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_processed_by_fkey" FOREIGN KEY ("processed_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
