#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests. In CI (CI=true) a missing browser is an
# error; elsewhere the browser tests skip with a clear reason when it cannot be installed.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get)..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
fi
if [ "${CI:-}" = "true" ]; then
  echo "Chromium is missing and could not be installed; browser tests cannot run in CI." >&2
  exit 1
fi
echo "Chromium is not installed: the browser tests will be skipped (run as root with apt-get, or install the 'chromium' package)." >&2
exit 0
