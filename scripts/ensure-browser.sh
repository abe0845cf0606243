#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (never `playwright install`: no download
# of browsers is possible here). Under CI a missing browser must fail the tests, so we try hard;
# elsewhere the browser tests skip with a reason when Chromium cannot be had.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium with apt-get"
else
  echo "note: /usr/bin/chromium is absent and apt-get cannot be used here; browser tests will skip (or fail under CI)"
fi
exit 0
