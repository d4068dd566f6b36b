#!/usr/bin/env bash
# Refresh ewaste_tracker/maps/vendor/, the copies of the JavaScript and CSS that the maps load,
# from the npm registry, so that maps draw with no internet. The folder is committed and ships
# in the wheel as package data: users never run this; a developer runs it to change a version.
#
# Each package is unpacked to vendor/<name>@<version>/ keeping its own folder layout
# (e.g. vendor/leaflet@1.9.3/dist/leaflet.js) with its licence file. Only the files the maps
# use are kept. Idempotent: a package whose folder holds its ".complete" marker is skipped.
#
# Usage: scripts/vendor_map_assets.sh [DEST]   (default: ewaste_tracker/maps/vendor)
# Needs: npm (any version that has "npm pack --pack-destination"), tar.
# Licences: leaflet BSD-2-Clause; jquery, leaflet.markercluster MIT.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/../ewaste_tracker/maps/vendor}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

if ! command -v npm >/dev/null 2>&1; then
    echo "vendor_map_assets: npm is not installed; install Node.js/npm and re-run" >&2
    exit 1
fi

# package@version followed by the paths (inside the package) to keep.
packages=(
    "leaflet@1.9.3 dist/leaflet.js dist/leaflet.css dist/images"
    "jquery@3.7.1 dist/jquery.min.js"
    "leaflet.markercluster@1.1.0 dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css"
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
    echo "vendor_map_assets: $spec"
    tarball="$(cd "$work" && npm pack --silent --pack-destination "$work" "$spec" | tail -n 1)"
    unpack="$work/unpack"
    rm -rf "$unpack"
    mkdir -p "$unpack"
    tar -xzf "$work/$tarball" -C "$unpack"
    rm -rf "$target"
    mkdir -p "$target"
    for p in $paths; do
        if [[ ! -e "$unpack/package/$p" ]]; then
            echo "vendor_map_assets: $spec has no $p" >&2
            exit 1
        fi
        mkdir -p "$target/$(dirname "$p")"
        cp -R "$unpack/package/$p" "$target/$p"
    done
    for lic in LICENSE LICENSE.txt LICENSE.md license MIT-LICENCE.txt; do
        if [[ -f "$unpack/package/$lic" ]]; then
            cp "$unpack/package/$lic" "$target/$lic"
        fi
    done
    touch "$target/.complete"
done
echo "vendor_map_assets: assets are in $dest"
