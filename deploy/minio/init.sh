#!/bin/sh
# Runs once per `docker compose up` (idempotent): the blob bucket, and a MinIO user
# for the API that may only read, write, delete and list objects in that bucket
# (the root credentials stay with the operator).
set -eu
mc alias set sfe http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "sfe/$S3_BUCKET"
# No versioning: a deleted (crypto-shredded) blob must not survive as an old version.
mc version suspend "sfe/$S3_BUCKET" >/dev/null 2>&1 || true
sed "s/__BUCKET__/$S3_BUCKET/g" /deploy/sfe-blobs-policy.json > /tmp/sfe-blobs-policy.json
mc admin policy create sfe sfe-blobs /tmp/sfe-blobs-policy.json >/dev/null
mc admin user add sfe "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" >/dev/null
mc admin policy attach sfe sfe-blobs --user "$S3_ACCESS_KEY_ID" >/dev/null 2>&1 || true
echo "bucket $S3_BUCKET and its API user are ready"
