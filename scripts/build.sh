#!/usr/bin/env bash
# Incremental Release build of the command line; prints only errors.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=$(dotnet build "$root/src/Tuwen.Cli/Tuwen.Cli.csproj" -c Release -nologo -v q -clp:ErrorsOnly 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
