-- CreateTable
CREATE TABLE "file_list_versions" (
    "owner_id" TEXT NOT NULL PRIMARY KEY,
    "version" TEXT NOT NULL,
    CONSTRAINT "file_list_versions_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- The list version changes with every change to an owner's listed files, in the same
-- transaction, whoever makes it (any server process, the CLI, a restore by statements).
-- A random value, not a counter: a database restored to an earlier state then shows the
-- version it had in that state, never one a later state also had.
CREATE TRIGGER "encrypted_files_list_version_insert" AFTER INSERT ON "encrypted_files"
BEGIN
    INSERT INTO "file_list_versions" ("owner_id", "version") VALUES (NEW."owner_id", lower(hex(randomblob(16))))
        ON CONFLICT ("owner_id") DO UPDATE SET "version" = excluded."version";
END;

CREATE TRIGGER "encrypted_files_list_version_update"
AFTER UPDATE OF "id", "owner_id", "filename", "content_type", "size", "sha256", "algorithm", "description", "created_at", "deleted_at" ON "encrypted_files"
BEGIN
    INSERT INTO "file_list_versions" ("owner_id", "version") VALUES (OLD."owner_id", lower(hex(randomblob(16))))
        ON CONFLICT ("owner_id") DO UPDATE SET "version" = excluded."version";
    INSERT INTO "file_list_versions" ("owner_id", "version") VALUES (NEW."owner_id", lower(hex(randomblob(16))))
        ON CONFLICT ("owner_id") DO UPDATE SET "version" = excluded."version";
END;

CREATE TRIGGER "encrypted_files_list_version_delete" AFTER DELETE ON "encrypted_files"
BEGIN
    INSERT INTO "file_list_versions" ("owner_id", "version") VALUES (OLD."owner_id", lower(hex(randomblob(16))))
        ON CONFLICT ("owner_id") DO UPDATE SET "version" = excluded."version";
END;

-- Owners who already have files get a version now (until then their list is not kept).
INSERT INTO "file_list_versions" ("owner_id", "version")
    SELECT "owner_id", lower(hex(randomblob(16))) FROM "encrypted_files" GROUP BY "owner_id";
