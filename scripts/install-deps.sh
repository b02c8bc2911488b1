#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the benchmarks need, when missing.
# Runs apt only as root and only for packages that are not installed yet, so it is cheap to call
# before every build.
set -euo pipefail
groups="${1:-build}"
pkgs=(g++ make cmake libboost-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev pkg-config)
# The web page is bundled with npm (scripts/build-web.sh). A Node.js that is already there (the
# machine image's own) is kept: Debian's npm would conflict with it.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
case "$groups" in
  *test*) pkgs+=(googletest libgtest-dev python3 python3-yaml curl) ;;  # yaml: tests/deploy
esac
case "$groups" in
  *web*) pkgs+=(chromium) ;;  # the browser test (tests/web)
esac
case "$groups" in
  *bench*) pkgs+=(libbenchmark-dev wrk nginx-light python3) ;;  # bench/run.sh, bench/loadtest.py
esac
case "$groups" in
  *lint*) pkgs+=(clang libclang-rt-14-dev clang-format) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
