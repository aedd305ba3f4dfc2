#!/usr/bin/env bash
# sVirt labelling cost: label + restore four disks (SELinux image label and DAC owner, originals remembered),
# medians and p95 over many iterations, on the file system of the work tree. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product security-bench >/dev/null
dir="$(mktemp -d -p "$PWD")"
trap 'rm -rf "$dir"' EXIT
"$(swift build -c release --show-bin-path)/security-bench" 1000 "$dir"
