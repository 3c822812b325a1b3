#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian's `chromium`, `chromium-driver`) when either is missing.
# Needs root. The browser tests (tests/test_browser.py) drive them with Selenium; nothing is downloaded
# at test time (no Playwright or selenium-manager browser builds: only Debian's packages).
set -euo pipefail
command -v chromium >/dev/null && command -v chromedriver >/dev/null && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
echo "install_chromium: $(chromium --version 2>/dev/null); $(chromedriver --version 2>/dev/null)"
