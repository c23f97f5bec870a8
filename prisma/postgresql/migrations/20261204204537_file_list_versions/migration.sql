-- CreateTable
CREATE TABLE "file_list_versions" (
    "owner_id" TEXT NOT NULL,
    "version" TEXT NOT NULL,

    CONSTRAINT "file_list_versions_pkey" PRIMARY KEY ("owner_id")
);

-- AddForeignKey
ALTER TABLE "file_list_versions" ADD CONSTRAINT "file_list_versions_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The list version changes with every change to an owner's listed files, in the same
-- transaction, whoever makes it (any replica, the CLI, a restore by statements).
-- A random value, not a counter: a database restored to an earlier state then shows the
-- version it had in that state, never one a later state also had.
CREATE FUNCTION "file_list_version_bump"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO "file_list_versions" ("owner_id", "version") VALUES (OLD."owner_id", replace(gen_random_uuid()::text, '-', ''))
            ON CONFLICT ("owner_id") DO UPDATE SET "version" = EXCLUDED."version";
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO "file_list_versions" ("owner_id", "version") VALUES (NEW."owner_id", replace(gen_random_uuid()::text, '-', ''))
            ON CONFLICT ("owner_id") DO UPDATE SET "version" = EXCLUDED."version";
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER "encrypted_files_list_version"
AFTER INSERT OR DELETE
    OR UPDATE OF "id", "owner_id", "filename", "content_type", "size", "sha256", "algorithm", "description", "created_at", "deleted_at"
ON "encrypted_files"
FOR EACH ROW EXECUTE FUNCTION "file_list_version_bump"();

-- Owners who already have files get a version now (until then their list is not kept).
INSERT INTO "file_list_versions" ("owner_id", "version")
    SELECT "owner_id", replace(gen_random_uuid()::text, '-', '') FROM "encrypted_files" GROUP BY "owner_id";
