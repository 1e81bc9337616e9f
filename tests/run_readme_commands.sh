#!/bin/sh
# Runs, verbatim, the first ```sh block under a README.md heading (from the repository root),
# so that the commands the README gives are the ones the suite runs.
#   sh tests/run_readme_commands.sh "Cross-compiling for Jetson"
set -eu
heading="$1"
root=$(cd "$(dirname "$0")/.." && pwd)
script=$(awk -v h="## $heading" '
  $0 == h { found = 1; next }
  found && /^## / { exit }
  found && !inside && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { exit }
  inside { print }
' "$root/README.md")
if [ -z "$script" ]; then
  echo "run_readme_commands: no sh block under '## $heading' in README.md" >&2
  exit 1
fi
echo "run_readme_commands: README.md, $heading:"
echo "$script" | sed 's/^/  $ /'
cd "$root"
# Each line as the reader would type it: in one shell, stopping at the first failure.
printf 'set -e\n%s\n' "$script" | sh
