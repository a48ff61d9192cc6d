# PicoPay image. Two stages:
#   build   - every dependency (dev included) and the sources; the image only builds if the whole project type-checks
#             (the same `npm run typecheck` CI runs), then tsc compiles src/ to dist/ (npm run build).
#   runtime - production dependencies only (no tsc, tsx, esbuild or embedded PostgreSQL: they are dev dependencies),
#             the compiled dist/, the versioned migrations and the SQL function files, as the unprivileged `node` user.
# Build: docker build -t picopay .   (see docs/DEPLOY.md; CI validates this file but has no Docker engine)
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY db ./db
COPY packages ./packages
COPY test ./test
RUN npm run typecheck && npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/db ./db
# Unprivileged user shipped with the official node images (uid 1000).
USER node
EXPOSE 8000
# Liveness only (no dependency is checked); readiness is GET /ready. Slim images have no curl: use node's fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, the compiled server itself as PID 1 (not `npm start` nor bin/picopay.mjs, which would add a parent
# process): SIGTERM reaches it directly and close-with-grace drains in-flight requests. The other commands:
#   docker compose run --rm app node dist/cli/migrate.js | node dist/cli/verify.js | node dist/cli/keys.js --client NAME
CMD ["node", "--enable-source-maps", "dist/server.js"]
