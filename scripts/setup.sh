#!/usr/bin/env bash
# Idempotent machine set-up shared by ./tuwen and ./test. Quiet when nothing is to do.
# Installs: Debian packages, the newer libstdc++ TorchSharp needs, PostgreSQL 15 + pgvector, the npm
# data packs of emoji-zh.
set -euo pipefail

TUWEN_HOME="${TUWEN_HOME:-$HOME/.cache/tuwen}"
export TUWEN_HOME
log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else log "need root for: $*"; return 1; fi; }

# --- Debian packages --------------------------------------------------------------------------
# fonts-wqy-microhei: without a CJK font, Chinese text in the PNG reports renders as empty boxes.
# chromium: the web page's browser tests drive Debian's build through Playwright (never a downloaded browser).
# openmpi-bin, libopenmpi-dev: `tuwen train --launcher mpi` calls libmpi; the data-parallel tests start ranks with mpirun.
need=()
for p in fonts-wqy-microhei ca-certificates chromium openmpi-bin libopenmpi-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  log "the .NET 10 SDK is required (dotnet on PATH) and was not found"; exit 2
fi

# A private apt configuration for the next Debian release (type "deb" or "deb-src") of the machine's own
# archive, in a temporary directory: sets d (the directory) and O (apt-get options); /etc/apt is untouched.
next_release_apt() {
  d=$(mktemp -d); chmod 755 "$d"; mkdir -p "$d/lists/partial"
  local src
  src=$(grep -hsvE '^\s*#' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
        grep -oE 'https?://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ' || true)
  [ -n "$src" ] || { log "no Debian archive found in /etc/apt sources"; exit 2; }
  echo "$1 $src trixie main" > "$d/sources.list"
  O=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$d/lists")
  as_root apt-get "${O[@]}" update -qq >/dev/null
}

# --- libstdc++ with GLIBCXX_3.4.32 (TorchSharp 0.107 / libtorch 2.10) -------------------------
# Debian 12 stops at GLIBCXX_3.4.30; take libstdc++6 from the next Debian release of the
# machine's own archive. Only runs when the symbol version is missing.
libstd=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if ! grep -qa GLIBCXX_3.4.32 "$libstd"; then
  log "installing a newer libstdc++6 (GLIBCXX_3.4.32 missing)"
  next_release_apt deb
  DEBIAN_FRONTEND=noninteractive as_root apt-get "${O[@]}" install -y -qq libstdc++6 >/dev/null
  rm -rf "$d"
  grep -qa GLIBCXX_3.4.32 "$libstd" || { log "libstdc++ upgrade did not provide GLIBCXX_3.4.32"; exit 2; }
fi

# --- PostgreSQL 15 + pgvector (the scale-out search store and its tests) ----------------------------
# Debian 12 ships PostgreSQL 15 but no pgvector; build pgvector from the next Debian release's source
# package (Debian 13's postgresql-17-pgvector binary would drag in dozens of packages). Skipped once
# vector.control is installed. Set TUWEN_SKIP_PGVECTOR=1 to leave PostgreSQL out entirely.
pgbin=/usr/lib/postgresql/15/bin
if [ "${TUWEN_SKIP_PGVECTOR:-0}" != 1 ] && [ ! -f /usr/share/postgresql/15/extension/vector.control ]; then
  log "installing PostgreSQL 15 and building pgvector from Debian's source package"
  pgneed=()
  for p in postgresql-15 postgresql-server-dev-15 make gcc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || pgneed+=("$p")
  done
  if [ ${#pgneed[@]} -gt 0 ]; then
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${pgneed[@]}" >/dev/null
  fi
  next_release_apt deb-src
  # apt warns that it downloads unsandboxed as root; keep that out of the output unless it fails.
  (cd "$d" && as_root apt-get "${O[@]}" source --download-only -qq pgvector >/dev/null 2>"$d/apt.log") ||
    { log "apt-get source pgvector failed:"; cat "$d/apt.log" >&2; exit 2; }
  tar xzf "$d"/pgvector_*.orig.tar.gz -C "$d"
  # OPTFLAGS="": no -march=native, so the library runs on any x86-64 machine the image lands on.
  (cd "$d"/pgvector-*/ && make -s PG_CONFIG="$pgbin/pg_config" OPTFLAGS="" >/dev/null 2>"$d/make.log" &&
     as_root make -s install PG_CONFIG="$pgbin/pg_config" >/dev/null 2>>"$d/make.log") ||
    { log "pgvector build failed:"; tail -n 20 "$d/make.log" >&2; exit 2; }
  rm -rf "$d"
  [ -f /usr/share/postgresql/15/extension/vector.control ] || { log "pgvector did not install vector.control"; exit 2; }
fi

# --- npm data packs (emoji-zh) -------------------------------------------------------------------
# Pinned versions; kept as the .tgz that `npm pack` downloads, unpacked lazily by `tuwen corpus emoji`.
packs=(
  emoji-datasource-google@16.0.0
  emoji-datasource-twitter@16.0.0
  emoji-datasource-facebook@16.0.0
  cldr-annotations-full@48.2.0
  cldr-annotations-derived-full@48.2.0
  emojibase-data@17.0.0
)
npmdir="$TUWEN_HOME/npm"
mkdir -p "$npmdir"
for spec in "${packs[@]}" ${TUWEN_EXTRA_PACKS:-}; do
  name=${spec%@*}; ver=${spec##*@}
  tgz="$npmdir/$name-$ver.tgz"
  if [ ! -s "$tgz" ]; then
    log "npm pack $spec"
    (cd "$npmdir" && npm pack --silent "$spec" >/dev/null 2>"$npmdir/npm-pack.log") ||
      { log "npm pack $spec failed (see $npmdir/npm-pack.log)"; exit 2; }
  fi
done
