#!/usr/bin/env bash
# Install the browser the browser tests drive: Debian's Chromium at /usr/bin/chromium.
# Playwright's own browser download is not used. Safe to run again: does nothing when
# Chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "No apt-get here: install Chromium with your system's package manager," >&2
    echo "then point CL_TEACH_CHROMIUM at its executable." >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
