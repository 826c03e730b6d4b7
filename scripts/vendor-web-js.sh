#!/usr/bin/env bash
# Reproduces the vendored JavaScript the dashboard and its browser tests use, from npm:
#
#   src/csc_insight/web/static/vendor/   vega, vega-lite and vega-embed (charts, served locally)
#   tests/browser/axe.min.js             axe-core (accessibility checks in the browser tests)
#
#   bash scripts/vendor-web-js.sh          # rewrite the vendored copies
#   bash scripts/vendor-web-js.sh --check  # fail if a vendored copy differs from npm
#
# Each package is fetched with `npm pack` (no node_modules, no install scripts), checked
# against its pinned sha512 integrity (`npm view NAME@VERSION dist.integrity`), and only its
# minified browser build is copied, with the source-map comment removed. The dashboard must
# work with no internet access, so nothing is ever loaded from a CDN.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/src/csc_insight/web/static/vendor"
AXE_DEST="$ROOT/tests/browser"
CHECK=0
case "${1:-}" in
  --check) CHECK=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# name version integrity file-in-package licence
PACKAGES=(
  "vega 6.4.0 sha512-rHXCq2LpEWCLMjXBEj7hocY9G0/i5TGYRayGGSj06VTF4+l2IG2Z7oeZKCjWbUh/7hTE/mVhbaOPB72wCElh6g== build/vega.min.js BSD-3-Clause"
  "vega-lite 6.5.0 sha512-fMXF6s0MrIg0UTWnLIfeFtgSLzVhyzSKobzGrh5rhS+mL6FOYFG3m7ouJ4U23gj65EK+gl9FIIT5w7wLNaAzkA== build/vega-lite.min.js BSD-3-Clause"
  "vega-embed 7.3.0 sha512-wQ8s5GaSzqoKgmRfbRolgBrjE2CP7ZKHXqH7NijxMqPjpdWxSs4Dn8tvp9g0giQvh2cK+3p56sxjWWM0wNngGw== build/vega-embed.min.js BSD-3-Clause"
  "axe-core 4.14.1 sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ== axe.min.js MPL-2.0"
)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/vendor" "$WORK/axe"
sha() { sha256sum "$1" | cut -d' ' -f1; }

{
  echo "Vendored JavaScript for the dashboard's charts"
  echo "made by: scripts/vendor-web-js.sh (run it to reproduce or update this folder)"
  echo
} >"$WORK/vendor/VERSION"

for entry in "${PACKAGES[@]}"; do
  read -r name version integrity file licence <<<"$entry"
  (cd "$WORK" && npm pack --silent "$name@$version" >/dev/null)
  tarball="$WORK/$name-$version.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 | tr -d '\n')"
  if [ "$got" != "$integrity" ]; then
    echo "$name $version tarball integrity mismatch: $got" >&2
    exit 1
  fi
  mkdir -p "$WORK/$name"
  tar -xzf "$tarball" -C "$WORK/$name"
  src="$WORK/$name/package/$file"
  if [ "$name" = "axe-core" ]; then
    out="$WORK/axe/axe.min.js"
    licence_out="$WORK/axe/AXE-LICENSE"
  else
    out="$WORK/vendor/$(basename "$file")"
    licence_out="$WORK/vendor/LICENSE-$name"
  fi
  sed -e 's#//\# sourceMappingURL=.*$##' "$src" >"$out"
  if grep -q 'sourceMappingURL' "$out"; then
    echo "$name: a source map reference survived; review this script" >&2
    exit 1
  fi
  cp "$WORK/$name/package/LICENSE" "$licence_out"
  line="$name $version ($licence), npm $integrity
  $(basename "$out") from $file (sha256 $(sha "$src")), source map comment removed (sha256 $(sha "$out"))"
  if [ "$name" = "axe-core" ]; then
    printf '%s\n%s\n' "axe-core for the browser tests (not shipped with the app)" "$line" >"$WORK/axe/AXE-VERSION"
    echo "  licence: Mozilla Public License 2.0 (AXE-LICENSE); the file is unmodified apart from the source map comment." >>"$WORK/axe/AXE-VERSION"
  else
    printf '%s\n' "$line" >>"$WORK/vendor/VERSION"
  fi
done
cat >>"$WORK/vendor/VERSION" <<'EOF2'

Licences: BSD-3-Clause, each package's LICENSE copied beside it as LICENSE-<package>.
vega-embed's build bundles vega-interpreter, used by the dashboard (option ast: true) so that
charts render under a Content-Security-Policy without 'unsafe-eval'.
EOF2

if [ "$CHECK" = 1 ]; then
  status=0
  for f in "$WORK"/vendor/*; do
    cmp -s "$f" "$VENDOR/$(basename "$f")" || { echo "differs: vendor/$(basename "$f")" >&2; status=1; }
  done
  for f in "$WORK"/axe/*; do
    cmp -s "$f" "$AXE_DEST/$(basename "$f")" || { echo "differs: tests/browser/$(basename "$f")" >&2; status=1; }
  done
  [ "$status" = 0 ] && echo "vendored JavaScript matches npm"
  exit "$status"
fi
mkdir -p "$VENDOR" "$AXE_DEST"
cp "$WORK"/vendor/* "$VENDOR/"
cp "$WORK"/axe/* "$AXE_DEST/"
echo "wrote $VENDOR and $AXE_DEST/axe.min.js"
