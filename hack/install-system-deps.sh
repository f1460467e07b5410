#!/usr/bin/env bash
# System packages the tests and the demo use: git (Git sync tests) and
# prometheus (analysis e2e tests and the demo). Installs what is missing with
# apt-get when run as root; otherwise says what to install.
set -euo pipefail
missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]} (install them, e.g. sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: prometheus recommends exporters we do not run.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}" >&2
