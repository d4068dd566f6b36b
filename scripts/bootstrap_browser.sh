#!/usr/bin/env bash
# Install Debian's headless Chromium and ChromeDriver for the browser tests when missing.
# Needs root (or sudo); without it the browser tests skip themselves.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: no apt-get here; browser tests will be skipped" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
        echo "note: not root; install chromium and chromium-driver to run the browser tests" >&2
        exit 0
    fi
fi
echo "installing chromium and chromium-driver (Debian packages) for the browser tests"
$sudo apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
    || echo "note: could not install chromium; browser tests will be skipped" >&2
exit 0
