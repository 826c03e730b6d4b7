#!/usr/bin/env bash
# Reproduces src/csc_insight/web/static/govuk/ from the govuk-frontend package on npm.
#
#   bash scripts/vendor-govuk-frontend.sh            # rewrite the vendored copy
#   bash scripts/vendor-govuk-frontend.sh --check    # fail if the vendored copy differs
#   bash scripts/vendor-govuk-frontend.sh --macros   # also compare the govuk-frontend-jinja
#                                                    # macros with this version's fixtures
#
# Only what the pages need is kept: the compiled CSS and the ES module JavaScript. No fonts,
# no images, no source maps. csc-insight runs on a council's own network, not on GOV.UK, so
# it must not use the GOV.UK brand: the GDS Transport font ("customised for exclusive use on
# gov.uk"), the crown/crest and the GOV.UK favicons. The CSS is therefore edited as GOV.UK
# Frontend's own Sass settings would compile it for a non-GOV.UK service
# ($govuk-font-family: arial, sans-serif; $govuk-include-default-font-face: false):
#   1. the GDS Transport @font-face rules and their copyright comment are removed;
#   2. "GDS Transport," is dropped from every font stack (leaving arial, sans-serif);
#   3. the absolute /assets/ URLs are made relative to the CSS file (none is used by our pages);
#   4. the sourceMappingURL comments are removed (no maps are shipped).
# Each edit is counted, so a new upstream version that no longer matches fails loudly.
set -euo pipefail

VERSION="6.6.0"
# `npm view govuk-frontend@6.6.0 dist.integrity`; checked against the downloaded tarball.
INTEGRITY="sha512-xctkWrQvLnvQt7fyjQ3MGX9S0wz0x0RQuLxCeoXF+s8EjGICG81/DYQGKN5qgO+0KVT12UAaRwUsGY6fulRcRg=="

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/csc_insight/web/static/govuk"
CHECK=0
MACROS=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --macros) MACROS=1 ;;
    *) echo "usage: $0 [--check] [--macros]" >&2; exit 2 ;;
  esac
done

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "govuk-frontend@$VERSION" >/dev/null)
TARBALL="$WORK/govuk-frontend-$VERSION.tgz"
GOT="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 | tr -d '\n')"
if [ "$GOT" != "$INTEGRITY" ]; then
  echo "govuk-frontend $VERSION tarball integrity mismatch: $GOT" >&2
  exit 1
fi
tar -xzf "$TARBALL" -C "$WORK"
SRC="$WORK/package/dist/govuk"

OUT="$WORK/out"
mkdir -p "$OUT"

expect() {  # expect COUNT DESCRIPTION FILE PATTERN: the pattern occurs COUNT times in FILE
  local n
  n="$({ grep -o -- "$4" "$3" || true; } | wc -l | tr -d ' ')"
  if [ "$n" != "$1" ]; then
    echo "govuk-frontend $VERSION: expected $1 $2, found $n; review this script" >&2
    exit 1
  fi
}

CSS_IN="$SRC/govuk-frontend.min.css"
expect 2 "@font-face rules" "$CSS_IN" '@font-face{[^}]*}'
expect 1 "font copyright comments" "$CSS_IN" '/\*![^*]*\*/'
expect 58 "GDS Transport font stacks" "$CSS_IN" 'font-family:GDS Transport,arial,sans-serif'
sed -E \
  -e 's#/\*![^*]*\*/##g' \
  -e 's#@font-face\{[^}]*\}##g' \
  -e 's#font-family:GDS Transport,arial,sans-serif#font-family:arial,sans-serif#g' \
  -e 's#url\(/assets/#url(assets/#g' \
  -e 's#/\*\# sourceMappingURL=[^*]*\*/##g' \
  "$CSS_IN" >"$OUT/govuk-frontend.min.css"
expect 0 "GDS Transport mentions after editing" "$OUT/govuk-frontend.min.css" 'GDS Transport'
expect 0 "absolute asset URLs after editing" "$OUT/govuk-frontend.min.css" 'url(/'

sed -e 's#//\# sourceMappingURL=.*$##' "$SRC/govuk-frontend.min.js" >"$OUT/govuk-frontend.min.js"
expect 0 "source map references after editing" "$OUT/govuk-frontend.min.js" 'sourceMappingURL'

sha() { sha256sum "$1" | cut -d' ' -f1; }
cat >"$OUT/VERSION" <<EOF
govuk-frontend $VERSION
source: npm package govuk-frontend@$VERSION ($INTEGRITY), dist/govuk/
made by: scripts/vendor-govuk-frontend.sh (run it to reproduce or update this folder)

Files:
  govuk-frontend.min.css  from dist/govuk/govuk-frontend.min.css (sha256 $(sha "$CSS_IN"))
                          edited for a non-GOV.UK service: GDS Transport @font-face rules and
                          their copyright comment removed, font stacks set to arial, sans-serif,
                          asset URLs made relative, source map comment removed
                          (sha256 $(sha "$OUT/govuk-frontend.min.css"))
  govuk-frontend.min.js   from dist/govuk/govuk-frontend.min.js (sha256 $(sha "$SRC/govuk-frontend.min.js"))
                          source map comment removed (sha256 $(sha "$OUT/govuk-frontend.min.js"))

Not included, on purpose: dist/govuk/assets/ (the GDS Transport fonts, the crown/crest and the
GOV.UK favicons and icons), which may only be used by services on GOV.UK; Sass, Nunjucks
templates and source maps.

Licence: the package.json says MIT, and its README: "Unless stated otherwise, the codebase is
released under the MIT License. This covers both the codebase and any sample code in the
documentation. The documentation is (c) Crown copyright and available under the terms of the
Open Government 3.0 licence." The npm package ships no LICENSE file; LICENSE beside this
file is the MIT licence text of the alphagov/govuk-frontend repository (LICENSE.txt).
The GDS Transport font is "Copyright (c) 2011 by Margaret Calvert & Henrik Kubel. All rights
reserved. The font has been customised for exclusive use on gov.uk", so it is not vendored.
EOF

cat >"$OUT/LICENSE" <<'EOF'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF

if [ "$CHECK" = 1 ]; then
  if diff -r "$OUT" "$DEST" >/dev/null; then
    echo "vendored govuk-frontend $VERSION matches the npm package"
  else
    diff -r "$OUT" "$DEST" | head -20 >&2
    echo "vendored govuk-frontend differs from what this script makes; rerun it" >&2
    exit 1
  fi
else
  rm -rf "$DEST"
  mkdir -p "$DEST"
  cp "$OUT"/* "$DEST"/
  echo "vendored govuk-frontend $VERSION into ${DEST#"$ROOT"/} ($(du -sh "$DEST" | cut -f1))"
fi

if [ "$MACROS" = 1 ]; then
  # Render every example in the package's fixtures.json through the matching Jinja macro and
  # compare the markup (whitespace and class order ignored). Components the pages use must
  # all match; the others are reported.
  PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
  "$PYTHON" - "$SRC/components" <<'PY'
import json
import re
import sys
from pathlib import Path

import jinja2
from lxml import etree
from lxml import html as lhtml

USED = {"skip-link", "generic-header", "service-navigation", "phase-banner", "table",
        "summary-list", "tag", "inset-text", "warning-text"}
# Known differences in features the pages do not use (govuk-frontend-jinja 4.1.0 follows
# govuk-frontend 6.3.0): the 6.x object form of the service navigation's end slot.
KNOWN = {("service-navigation", "with right-aligned language navigation"),
         ("service-navigation", "with `inline` end slot")}
env = jinja2.Environment(
    loader=jinja2.PrefixLoader({"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}),
    autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)


def norm(markup: str) -> str:
    out = []
    for frag in lhtml.fragments_fromstring(markup.strip()) if markup.strip() else []:
        if isinstance(frag, str):
            out.append(" ".join(frag.split()))
            continue
        for el in frag.iter():
            el.text = " ".join((el.text or "").split()) or None
            el.tail = " ".join((el.tail or "").split()) or None
            for k, v in list(el.attrib.items()):
                v = " ".join(v.split())
                el.attrib[k] = " ".join(sorted(v.split())) if k == "class" else v
        out.append(etree.tostring(frag, method="html", encoding="unicode"))
    return "".join(out)


failed_used = []
for folder in sorted(p for p in Path(sys.argv[1]).iterdir() if (p / "fixtures.json").exists()):
    name = "govuk" + "".join(w.capitalize() for w in folder.name.split("-"))
    fixtures = json.loads((folder / "fixtures.json").read_text())["fixtures"]
    try:
        tmpl = env.from_string(
            f'{{% from "govuk_frontend_jinja/components/{folder.name}/macro.html" '
            f"import {name} %}}{{{{ {name}(params) }}}}"
        )
        tmpl.render(params={})
    except jinja2.TemplateNotFound:
        print(f"{folder.name:22} no Jinja macro")
        continue
    except Exception:
        pass
    bad = []
    for f in fixtures:
        try:
            same = norm(tmpl.render(params=f["options"])) == norm(f["html"])
        except Exception:
            same = False
        if not same:
            bad.append(f["name"])
    used = " (used)" if folder.name in USED else ""
    print(f"{folder.name:22} {len(fixtures) - len(bad)}/{len(fixtures)} match{used}")
    for b in bad:
        print(f"{'':24}differs: {b}")
    if used and set(bad) - {f for c, f in KNOWN if c == folder.name}:
        failed_used.append(folder.name)
if failed_used:
    sys.exit("macros the pages use differ from govuk-frontend: " + ", ".join(failed_used))
PY
fi
