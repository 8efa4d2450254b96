#!/usr/bin/env bash
# Debian's chromium and chromium-driver for the browser test of the status
# page (tests/tests/it/status_page.rs drives them over WebDriver). Installs
# them when missing and this user may (root, or passwordless sudo); says
# what to run otherwise.
set -euo pipefail
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && exit 0
packages=(chromium chromium-driver)
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "the browser test needs Debian's ${packages[*]}: run 'sudo apt-get install ${packages[*]}'" >&2
  exit 1
fi
echo "installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q "${packages[@]}" >/dev/null ||
  { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q "${packages[@]}" >/dev/null; }
