#!/bin/sh
# Prisma's CLI wants a native schema engine it would download; this project drives
# Prisma's wasm schema engine itself. Anything reaching this stub gets told so.
echo "The native Prisma schema engine is not used in this project; run 'pnpm db:migrate' (prisma/scripts/migrate.ts) instead." >&2
exit 1
