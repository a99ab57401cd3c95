#!/usr/bin/env bash
# The scripts a slide deck loads, kept beside the decks so that they open offline from
# file:// (nbconvert's slides point at CDNs): reveal.js 4.0.2 (the version nbconvert's
# template is written for), require.js and jQuery, from the npm registry. Once only.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=slides/vendor
if [ -f "$VENDOR/reveal.js/dist/reveal.js" ] && [ -f "$VENDOR/require.js" ] && [ -f "$VENDOR/jquery.min.js" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed once to fetch reveal.js (install Node.js)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent reveal.js@4.0.2 requirejs@2.3.7 jquery@3.7.1 >/dev/null)
mkdir -p "$VENDOR/reveal.js"
for pkg in reveal.js-4.0.2 requirejs-2.3.7 jquery-3.7.1; do
  mkdir -p "$work/$pkg" && tar xzf "$work/$pkg.tgz" -C "$work/$pkg"
done
cp -r "$work/reveal.js-4.0.2/package/dist" "$work/reveal.js-4.0.2/package/plugin" "$VENDOR/reveal.js/"
cp "$work/requirejs-2.3.7/package/require.js" "$VENDOR/require.js"
cp "$work/jquery-3.7.1/package/dist/jquery.min.js" "$VENDOR/jquery.min.js"
echo "reveal.js, require.js and jQuery in $VENDOR"
