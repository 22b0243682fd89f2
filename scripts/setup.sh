#!/usr/bin/env bash
# Install what c2v needs on a Debian/Ubuntu machine: system packages, then a virtualenv
# with the project. Idempotent: packages already present and an unchanged project are
# not installed again. Usage: scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
if [ "${1:-}" = "--dev" ]; then DEV=1; fi

APT_PACKAGES=(
  build-essential pkg-config python3-dev python3-venv
  libcairo2-dev libpango1.0-dev ffmpeg
  texlive-latex-base texlive-latex-recommended texlive-latex-extra
  texlive-fonts-recommended texlive-science dvisvgm
  texlive-xetex texlive-lang-chinese texlive-lang-cjk lmodern
  bubblewrap util-linux fonts-dejavu-core fonts-noto-cjk fontconfig
  espeak-ng
)
# The test suite opens the HTML run report and the web studio in a real browser (headless Debian
# chromium; Playwright drives the studio's, with no browser download).
if [ "$DEV" = 1 ]; then APT_PACKAGES+=(chromium); fi
# The service's tests start a throw-away PostgreSQL cluster (initdb + pg_ctl).
if [ "$DEV" = 1 ]; then APT_PACKAGES+=(postgresql); fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# python3-dev/python3-venv are only needed when the system python is the one in use.
if command -v pyenv >/dev/null 2>&1 || [ "$(command -v python3)" != "/usr/bin/python3" ]; then
  filtered=()
  for pkg in "${missing[@]}"; do
    case "$pkg" in python3-dev|python3-venv) ;; *) filtered+=("$pkg") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" - <<'PY' || { echo "setup: c2v needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# Stamps name the pyproject they installed, so an unchanged project is not reinstalled;
# a dev install also satisfies a plain one.
hash="$(sha256sum pyproject.toml | cut -c1-16)"
extras="" suffix=""
if [ "$DEV" = 1 ]; then extras="[dev]" suffix="-dev"; fi
if [ ! -f ".venv/.installed-$hash$suffix" ]; then
  echo "setup: installing the project into .venv $extras"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q -e ".$extras" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import c2v, manim, ray" || { echo "setup: the project did not install"; exit 1; }
  rm -f .venv/.installed-*
  touch ".venv/.installed-$hash"
  if [ "$DEV" = 1 ]; then touch ".venv/.installed-$hash-dev"; fi
fi
exit 0
