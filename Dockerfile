# syntax=docker/dockerfile:1
# SFE API + built SPA in one image. Build: docker compose build (or docker build -t sfe-api .)
# Stage 1 has the compilers for the native modules (better-sqlite3, pkcs11js) and
# builds the SPA; the runtime stage has no compiler and runs as the unprivileged user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc prisma.config.ts tsconfig.base.json ./
COPY prisma ./prisma
COPY packages ./packages
COPY apps ./apps
RUN npx -y pnpm@10.34.9 install --frozen-lockfile \
  && npx -y pnpm@10.34.9 --filter @sfe/web build \
  && npx -y pnpm@10.34.9 --filter @sfe/api build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data UV_THREADPOOL_SIZE=8 MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=4194304 SFE_WEB_DIST=/app/apps/web/dist
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# The only writable place besides a tmpfs /tmp (compose mounts the root filesystem read-only).
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:3000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The built server (apps/api/scripts/build.mjs), as `pnpm start` runs it.
# --no-allocation-site-pretenuring, --heap-growing-percent=100: see apps/api/bench/README.md (transfers after JSON load).
CMD ["node", "--no-allocation-site-pretenuring", "--heap-growing-percent=100", "apps/api/dist/server.mjs"]
