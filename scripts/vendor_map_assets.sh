#!/usr/bin/env bash
# Fill static/vendor/ with the JavaScript, CSS, fonts and basemap outlines that the maps need,
# taken from the npm registry, so that maps draw with no internet.
#
# Each package is unpacked to static/vendor/<name>@<version>/ keeping its own folder layout
# (e.g. static/vendor/leaflet@1.9.3/dist/leaflet.js). Only the files the maps use are kept.
# Idempotent: a package whose folder already holds its ".complete" marker is skipped.
#
# Usage: scripts/fetch_map_assets.sh [DEST]     (default: static/vendor beside this script)
# Needs: npm (any version that has "npm pack --pack-destination"), tar.
# Licences: leaflet BSD-2-Clause; jquery, bootstrap, leaflet.markercluster,
# leaflet.awesome-markers MIT; @fortawesome/fontawesome-free CC BY 4.0 (icons),
# SIL OFL 1.1 (fonts), MIT (code); d3 BSD-3-Clause; world-atlas ISC (data: Natural Earth,
# public domain).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/../static/vendor}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_map_assets: npm is not installed; install Node.js/npm and re-run" >&2
    exit 1
fi

# package@version followed by the paths (inside the package) to keep.
packages=(
    "leaflet@1.9.3 dist/leaflet.js dist/leaflet.css dist/images"
    "jquery@3.7.1 dist/jquery.min.js"
    "bootstrap@5.2.2 dist/js/bootstrap.bundle.min.js dist/css/bootstrap.min.css"
    "leaflet.markercluster@1.1.0 dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css"
    "leaflet.awesome-markers@2.0.5 dist"
    "@fortawesome/fontawesome-free@6.2.0 css/all.min.css webfonts"
    "d3@3.5.5 d3.min.js"
    "d3@4.13.0 build/d3.min.js"
    "world-atlas@2.0.2 countries-110m.json countries-50m.json"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for entry in "${packages[@]}"; do
    read -r spec paths <<<"$entry"
    # "@scope/name@1.2.3" -> folder "@scope/name@1.2.3"
    target="$dest/$spec"
    if [[ -f "$target/.complete" ]]; then
        continue
    fi
    echo "fetch_map_assets: $spec"
    tarball="$(cd "$work" && npm pack --silent --pack-destination "$work" "$spec" | tail -n 1)"
    unpack="$work/unpack"
    rm -rf "$unpack"
    mkdir -p "$unpack"
    tar -xzf "$work/$tarball" -C "$unpack"
    rm -rf "$target"
    mkdir -p "$target"
    for p in $paths; do
        if [[ ! -e "$unpack/package/$p" ]]; then
            echo "fetch_map_assets: $spec has no $p" >&2
            exit 1
        fi
        mkdir -p "$target/$(dirname "$p")"
        cp -R "$unpack/package/$p" "$target/$p"
    done
    for lic in LICENSE LICENSE.txt LICENSE.md license; do
        if [[ -f "$unpack/package/$lic" ]]; then
            cp "$unpack/package/$lic" "$target/$lic"
        fi
    done
    touch "$target/.complete"
done
echo "fetch_map_assets: assets are in $dest"
