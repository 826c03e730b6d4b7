#!/usr/bin/env bash
# Installs the operating-system packages that the tests need (called by `make test`).
# Usage: install-system-deps.sh PACKAGE...   (Debian/Ubuntu; root, or a user with sudo)
# Idempotent: does nothing, and needs no network or root, when everything is already present.
set -euo pipefail
needed=()
for pkg in "$@"; do
  # "install ok installed" only: a removed package whose config files remain does not count.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || needed+=("$pkg")
done
[ ${#needed[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "The tests need these Debian packages: ${needed[*]}." >&2
  echo "Install them as root (apt-get install ${needed[*]}) and run make test again." >&2
  exit 1
fi
echo "Installing system packages: ${needed[*]}"
# Slim Debian images drop man page folders, and the JRE's postinst fails without this one.
"${SUDO[@]}" mkdir -p /usr/share/man/man1
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${needed[@]}"
