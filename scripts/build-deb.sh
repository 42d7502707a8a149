#!/usr/bin/env bash
# Build the Debian package of restore-doctor into target/debian/:
#   the release binary (checked to be under 25 MB), one man page per command and the bash, zsh
#   and fish completions (generated from the CLI's own definition), and the udev rule from
#   packaging/udev/. Installs cargo-deb (pinned) when it is missing.
# Then: sudo dpkg -i target/debian/restore-doctor_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DEB_VERSION=3.8.0
MAX_BYTES=$((25 * 1024 * 1024))

if ! cargo-deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "== installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

echo "== release build"
cargo build --release --locked -p restore-doctor
bin=target/release/restore-doctor
size=$(stat -c %s "$bin")
echo "   $bin: $((size / 1024 / 1024)) MB ($size bytes)"
if [ "$size" -ge "$MAX_BYTES" ]; then
  echo "error: the release binary is $size bytes, over the 25 MB limit" >&2
  exit 1
fi

echo "== man pages and completions from the CLI"
assets=target/release/deb-assets
rm -rf "$assets"
"$bin" completions man --dir "$assets/man"
gzip -9n "$assets"/man/*.1   # Debian policy: compressed man pages
for shell in bash zsh fish; do
  "$bin" completions "$shell" --dir "$assets/completions"
done
echo "   $(ls "$assets/man" | wc -l) man pages, $(ls "$assets/completions" | wc -l) completion files"

echo "== cargo deb"
cargo deb -p restore-doctor --no-build --output target/debian/
ls -l target/debian/*.deb
