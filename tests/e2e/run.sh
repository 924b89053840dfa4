#!/usr/bin/env bash
# End-to-end test of the browser page: installs playwright-core (no browser
# download; it drives Debian's chromium) and runs e2e.mjs against the real
# fairmark-server. Needs www/pkg (bash scripts/build-web.sh) and chromium.
#   bash tests/e2e/run.sh            # e2e test
#   bash tests/e2e/run.sh bench ...  # benchmark (arguments go to bench.mjs)
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "node is missing (need node >= 20)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "chromium is missing: apt-get install chromium (or set CHROMIUM)" >&2; exit 1; }
[ -f ../../www/pkg/fairmark.js ] || [ -n "${FAIRMARK_URL:-}" ] || { echo "www/pkg is missing: run bash scripts/build-web.sh first" >&2; exit 1; }
if [ ! -d node_modules/playwright-core ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
if [ "${1:-}" = bench ]; then
  shift
  exec node bench.mjs "$@"
fi
exec node e2e.mjs "$@"
