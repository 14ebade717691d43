#!/usr/bin/env bash
# vendor-static.sh — vendor the browser build of idiomorph into static/vendor/.
#
# Downloads the pinned idiomorph tarball from the npm registry with `npm pack`
# (npm checks the registry's sha512 integrity), extracts dist/idiomorph.min.js
# (a classic script that defines the global `Idiomorph`), verifies the sha256
# recorded below and writes version + checksums to static/vendor/VERSIONS.
#
# The vendored file is committed: building never needs the network.
# To upgrade: change IDIOMORPH_VERSION, run with UPDATE=1 once, review the diff,
# paste the printed sha256 values below, commit.
set -euo pipefail

IDIOMORPH_VERSION="0.8.0"
# sha256 of dist/idiomorph.min.js inside idiomorph-0.8.0.tgz
IDIOMORPH_SHA256="4cbd535caf7663a51eda9bce6595371c384fc430d54b8d414e29a61167f19f96"
# sha256 of the tarball itself (npm's sha512 integrity is checked by npm pack)
IDIOMORPH_TGZ_SHA256="c2b48584153f0167b5c98cb815576338ccd82a97378e53fbf29d139dfd67207e"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

command -v npm >/dev/null || { echo "vendor-static: npm is required" >&2; exit 1; }

(cd "$tmp" && npm pack --silent "idiomorph@${IDIOMORPH_VERSION}" >/dev/null)
tgz="$tmp/idiomorph-${IDIOMORPH_VERSION}.tgz"
[ -f "$tgz" ] || { echo "vendor-static: npm pack did not produce $tgz" >&2; exit 1; }
tar -xzf "$tgz" -C "$tmp" package/dist/idiomorph.min.js package/LICENSE

got_tgz="$(sha256sum "$tgz" | cut -d' ' -f1)"
got="$(sha256sum "$tmp/package/dist/idiomorph.min.js" | cut -d' ' -f1)"
if [ "${UPDATE:-0}" = 1 ]; then
  echo "IDIOMORPH_SHA256=\"$got\""
  echo "IDIOMORPH_TGZ_SHA256=\"$got_tgz\""
  IDIOMORPH_SHA256="$got"; IDIOMORPH_TGZ_SHA256="$got_tgz"
fi
if [ "$got_tgz" != "$IDIOMORPH_TGZ_SHA256" ]; then
  echo "vendor-static: tarball sha256 mismatch: got $got_tgz want $IDIOMORPH_TGZ_SHA256" >&2; exit 1
fi
if [ "$got" != "$IDIOMORPH_SHA256" ]; then
  echo "vendor-static: idiomorph.min.js sha256 mismatch: got $got want $IDIOMORPH_SHA256" >&2; exit 1
fi
# The browser build must define the global our glue uses.
head -c 64 "$tmp/package/dist/idiomorph.min.js" | grep -q '^var Idiomorph=' \
  || { echo "vendor-static: dist/idiomorph.min.js does not define a global Idiomorph" >&2; exit 1; }

mkdir -p "$dest"
cp "$tmp/package/dist/idiomorph.min.js" "$dest/idiomorph.min.js"
cp "$tmp/package/LICENSE" "$dest/idiomorph.LICENSE"
cat > "$dest/VERSIONS" <<VERSIONS
# Vendored browser libraries. Regenerate with scripts/vendor-static.sh; do not edit by hand.
# name      version  file                 sha256                                                            source
idiomorph   ${IDIOMORPH_VERSION}    idiomorph.min.js     ${IDIOMORPH_SHA256}  npm:idiomorph@${IDIOMORPH_VERSION} (dist/idiomorph.min.js, license 0BSD)
idiomorph   ${IDIOMORPH_VERSION}    (tarball)            ${IDIOMORPH_TGZ_SHA256}  idiomorph-${IDIOMORPH_VERSION}.tgz
VERSIONS
echo "vendor-static: idiomorph ${IDIOMORPH_VERSION} -> static/vendor/idiomorph.min.js (sha256 ${got})"
