# syntax=docker/dockerfile:1
# Airwaves container image: one hub node (HTTP + WebSocket on 8080, RTMP ingest of the live app on
# 1935). Build and run:
#   docker build -t airwaves . && docker run --rm -p 8080:8080 -p 1935:1935 -v airwaves-data:/var/lib/airwaves airwaves
# Production configuration (DATABASE_URL, AIRWAVES_REDIS_URL, secrets) comes from the environment;
# see docs/deploy.md. test/deploy/dockerfile.test.ts checks every path copied here exists after
# `npm run build` and that the start command is the README's.

# ---- build: dev dependencies, TypeScript and the Vite web UIs -> dist/ ----------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
# `npm run build` is scripts/build.mjs (tsc, then vite).
COPY scripts/build.mjs ./scripts/
COPY src ./src
COPY web ./web
# bench/ is part of the TypeScript build (tsconfig.build.json) and imports test helpers.
COPY bench ./bench
COPY test ./test
RUN npm run build

# ---- runtime: production dependencies and dist/ only, as the unprivileged `node` user ---------
FROM node:20-bookworm-slim AS runtime
# tini as PID 1: forwards SIGTERM to node (which then closes WebSockets with 1012 and drains)
# and reaps any child process.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    AIRWAVES_HOST=0.0.0.0 \
    AIRWAVES_PORT=8080 \
    AIRWAVES_DATA_DIR=/var/lib/airwaves
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
# The hub-alone bundle and its V8 code cache (scripts/build.mjs, made with this image's Node):
# the CLI loads it when AIRWAVES_APPS is empty.
COPY --from=build /app/dist/hub ./dist/hub
# The all-apps bundle (scripts/build.mjs): the CLI loads it when any app is enabled (the default);
# its workers and Redis's Lua files are read from dist/src.
COPY --from=build /app/dist/all ./dist/all
RUN mkdir -p /var/lib/airwaves && chown node:node /var/lib/airwaves
USER node
# The embedded database (PGlite, single node only) lives here; with DATABASE_URL it stays empty.
VOLUME ["/var/lib/airwaves"]
EXPOSE 8080 1935
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.AIRWAVES_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
# The same command as npm start (serve picks the serial scavenger itself: src/core/scavenger.ts).
CMD ["node", "dist/src/cli.js", "serve"]
