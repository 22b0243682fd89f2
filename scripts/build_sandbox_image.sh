#!/usr/bin/env bash
# Build the Docker sandbox image c2v-sandbox:<digest> without any container registry:
# a debootstrap'ed Debian bookworm root (packages from sandbox/image/packages.txt) plus a
# virtualenv installed offline from a wheelhouse built on the host (Manim and its
# dependencies at the host's exact versions), imported with `docker import`.
#
# The tag is a digest of the inputs (sandbox/image.py:image_tag); when the engine already
# holds it, nothing is built. Usage: scripts/build_sandbox_image.sh [--force]
# Caches (git-ignored, safe to delete): .cache/sandbox-image/{debs,wheels}; the last
# build's logs: .cache/sandbox-image/logs.
# Knobs: C2V_DEBIAN_MIRROR, C2V_DEBIAN_SECURITY_MIRROR (default: the mirrors this host's
# apt uses), C2V_IMAGE_TMPDIR (where the temporary root is built; default /var/tmp).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
SUITE=bookworm
CACHE="$PWD/.cache/sandbox-image"
HOST_DEBS=/var/cache/apt/archives
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

DIED=0
die() { echo "sandbox-image: error: $*" >&2; DIED=1; exit 1; }
step() { printf 'sandbox-image: [%4ss] %s\n' "$SECONDS" "$*"; }

[ -x "$PY" ] || die "no virtualenv at .venv: run \`make setup-dev\` first"
command -v docker >/dev/null 2>&1 \
  || die "the docker CLI is missing: install Debian's engine with \`sudo apt-get install docker.io\`"
if ! docker info >/dev/null 2>&1; then
  if [ -x scripts/docker_engine.sh ]; then
    die "the Docker engine is not running (or not reachable by $(id -un)): start it with \`scripts/docker_engine.sh\`, then rerun"
  fi
  die "the Docker engine is not running (or not reachable by $(id -un)): start it with \`sudo systemctl start docker\` or \`sudo nohup dockerd >/var/log/dockerd.log 2>&1 &\`, then rerun"
fi

read -r TAG IMAGE_PYTHON IMAGE_UID HOST_PY < <("$PY" -c '
from sandbox.image import IMAGE_PYTHON, IMAGE_UID, image_tag, python_minor
print(image_tag(), IMAGE_PYTHON, IMAGE_UID, python_minor())') \
  || die "cannot compute the image tag: run \`make setup-dev\`"

up_to_date() { [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; }
if up_to_date; then
  echo "sandbox image $TAG is up to date"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "building the image needs root (debootstrap, chroot): run \`sudo make sandbox-image\`"
# Debian bookworm's python3 is 3.11: the host's wheels (cp311) must match it.
[ "$HOST_PY" = "3.11" ] \
  || die "the host virtualenv runs Python $HOST_PY but the image's Debian $SUITE python3 is 3.11: recreate .venv with a 3.11 interpreter"
if ! command -v debootstrap >/dev/null 2>&1; then
  step "installing debootstrap"
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
    || die "debootstrap is missing and could not be installed: run \`sudo apt-get install debootstrap\`"
fi

LOGS="$CACHE/logs" # the last build's logs
mkdir -p "$CACHE/debs" "$CACHE/wheels" "$LOGS"
# One build at a time per checkout; a build that waited may find the image done.
exec 9>"$CACHE/build.lock"
flock 9
if up_to_date; then
  echo "sandbox image $TAG is up to date"
  exit 0
fi

host_mirror() { # the URI this host's apt uses for archive $1 (debian or debian-security)
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -v '^[[:space:]]*#' | grep -oE "https?://[^ ]+/$1/?( |$)" | head -n1 | tr -d ' ' | sed 's:/$::' || true
}
MIRROR="${C2V_DEBIAN_MIRROR:-$(host_mirror debian)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${C2V_DEBIAN_SECURITY_MIRROR:-$(host_mirror debian-security)}"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

WORK="$(mktemp -d "${C2V_IMAGE_TMPDIR:-/var/tmp}/c2v-sandbox-image.XXXXXX")"
ROOTFS="$WORK/rootfs"
# With memory to spare the root is built in RAM: no disk writes, and no minute-long
# `rm -rf` of ~100k files at the end. C2V_IMAGE_TMPFS=0 turns this off.
WORK_TMPFS=0
mem_kb="$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
if [ "${C2V_IMAGE_TMPFS:-1}" != 0 ] && [ "${mem_kb:-0}" -gt $((8 * 1024 * 1024)) ] \
  && mount -t tmpfs -o size=6g,mode=0755 c2v-sandbox-image "$WORK" 2>/dev/null; then
  WORK_TMPFS=1
fi

mounts_under_root() { awk -v r="$ROOTFS" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r; }
cleanup() {
  local rc=$? m
  for m in $(mounts_under_root); do umount -l "$m" 2>/dev/null || true; done
  if [ -n "$(mounts_under_root)" ]; then
    echo "sandbox-image: warning: $WORK still has mounts, not deleting it; unmount them and remove it by hand" >&2
  elif [ "$WORK_TMPFS" = 1 ]; then
    umount "$WORK" 2>/dev/null || umount -l "$WORK"
    rmdir "$WORK"
  else
    rm -rf --one-file-system "$WORK"
  fi
  if [ "$rc" -ne 0 ] && [ "$DIED" = 0 ]; then
    echo "sandbox-image: error: the build failed at the step above; fix that and rerun \`make sandbox-image\`" >&2
  fi
  return "$rc"
}
trap cleanup EXIT

# Hard links where the cache and the target share a filesystem, copies otherwise.
link_or_copy() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }
in_root() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" "$@"
}

step "building $TAG (mirror $MIRROR, root in $WORK$([ "$WORK_TMPFS" = 1 ] && echo ', tmpfs'))"

# 1. The wheelhouse, on the host: Manim's closure at the host's exact versions.
"$PY" -c 'from sandbox.image import requirements_lock; print(requirements_lock(), end="")' >"$WORK/requirements.lock"
PIP_VERSION="$("$PY" -m pip --version | awk '{print $2}')"
echo "pip==$PIP_VERSION" >"$WORK/pip.lock"
pip_wheel() { "$PY" -m pip wheel -q --disable-pip-version-check --no-deps --find-links "$CACHE/wheels" -w "$CACHE/wheels" "$@"; }
if pip_wheel --no-index -r "$WORK/requirements.lock" -r "$WORK/pip.lock" >/dev/null 2>&1; then
  step "wheelhouse: all $(wc -l <"$WORK/requirements.lock") wheels cached in $CACHE/wheels"
else
  step "wheelhouse: fetching/building wheels into $CACHE/wheels"
  pip_wheel -r "$WORK/requirements.lock" -r "$WORK/pip.lock" 2>&1 | grep -v "is ignored: it is neither a file" >&2 \
    || true
  pip_wheel --no-index -r "$WORK/requirements.lock" -r "$WORK/pip.lock" >/dev/null 2>&1 \
    || die "building the wheelhouse failed: check PyPI access and the build packages (\`make setup-dev\` installs libcairo2-dev, libpango1.0-dev, build-essential)"
fi

# 2. The base system.
step "debootstrap --variant=minbase $SUITE"
debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$ROOTFS" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 \
  || { tail -n 20 "$LOGS/debootstrap.log" >&2; die "debootstrap failed (log above): check that $MIRROR is reachable"; }

cp sandbox/image/dpkg-slim.cfg "$ROOTFS/etc/dpkg/dpkg.cfg.d/c2v-slim"
install -D -m 0644 sandbox/image/fmtutil.cnf "$ROOTFS/etc/texmf/web2c/fmtutil.cnf"
cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
cat >"$ROOTFS/etc/apt/apt.conf.d/90c2v" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::Retries "3";
EOF
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"

# 3. The packages, reusing .debs this host (or an earlier build) already downloaded.
mapfile -t PACKAGES < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' sandbox/image/packages.txt | grep -v '^$')
step "apt-get install ${#PACKAGES[@]} packages (with dependencies)"
in_root apt-get update -qq
reused=0
while read -r deb; do
  if [ ! -f "$CACHE/debs/$deb" ] && [ -f "$HOST_DEBS/$deb" ]; then
    link_or_copy "$HOST_DEBS/$deb" "$CACHE/debs/$deb"
  fi
  if [ -f "$CACHE/debs/$deb" ]; then
    link_or_copy "$CACHE/debs/$deb" "$ROOTFS/var/cache/apt/archives/$deb"
    reused=$((reused + 1))
  fi
done < <(in_root apt-get install -qq --print-uris "${PACKAGES[@]}" | awk '{ print $2 }')
step "reusing $reused cached .debs"
stamp() { while IFS= read -r line; do printf '[%4ss] %s\n' "$SECONDS" "$line"; done; }
in_root apt-get install -y -q "${PACKAGES[@]}" 2>&1 | stamp >"$LOGS/apt.log" \
  || { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get install failed in the image root (log above)"; }
for deb in "$ROOTFS"/var/cache/apt/archives/*.deb; do
  [ -f "$CACHE/debs/${deb##*/}" ] || link_or_copy "$deb" "$CACHE/debs/${deb##*/}"
done

IMAGE_PY_FULL="$(in_root python3 -c 'import platform; print(platform.python_version())')"
[ "${IMAGE_PY_FULL%.*}" = "$HOST_PY" ] || die "the image's python3 is $IMAGE_PY_FULL, the host's $HOST_PY"

# 4. Manim, offline, into a virtualenv on Debian's python3 (pip runs from its wheel and is
#    not left in the image).
VENV="$(dirname "$(dirname "$IMAGE_PYTHON")")"
step "pip install --no-index into $VENV"
mkdir -p "$ROOTFS/tmp/wheels"
for whl in "$CACHE"/wheels/*.whl; do link_or_copy "$whl" "$ROOTFS/tmp/wheels/${whl##*/}"; done
cp "$WORK/requirements.lock" "$ROOTFS/tmp/requirements.lock"
in_root python3 -m venv --without-pip "$VENV"
PIP=(/tmp/wheels/"pip-$PIP_VERSION-py3-none-any.whl"/pip --disable-pip-version-check --no-cache-dir)
# The lock comes from the host, whose Python patch release may be newer than Debian's
# (3.11.2): a wheel asking for a newer patch release is installed anyway, and named here.
"$PY" -c 'import sys
from sandbox.image import unsatisfied_requires_python
for d in unsatisfied_requires_python(sys.argv[1]):
    print(f"sandbox-image: note: installing {d} on python {sys.argv[1]} anyway")' "$IMAGE_PY_FULL"
in_root "$IMAGE_PYTHON" "${PIP[@]}" install -q --no-index --find-links /tmp/wheels --no-deps \
  --ignore-requires-python -r /tmp/requirements.lock
in_root "$IMAGE_PYTHON" "${PIP[@]}" check >/dev/null || die "the image's Python packages are inconsistent (pip check)"
in_root "$IMAGE_PYTHON" -c 'import cairo, manimpango, manim' >/dev/null
cp "$WORK/requirements.lock" "$ROOTFS$VENV/requirements.lock"

# 5. The user scenes run as, the mount points, and the slimming.
step "user, mount points, cleanup"
in_root groupadd --gid "$IMAGE_UID" c2v
in_root useradd --uid "$IMAGE_UID" --gid "$IMAGE_UID" --no-create-home --home-dir /home/c2v \
  --shell /usr/sbin/nologin c2v
install -d -m 0700 -o "$IMAGE_UID" -g "$IMAGE_UID" "$ROOTFS/home/c2v"
install -d -m 0755 "$ROOTFS/sandbox"
# fontconfig trusts its cache only while each font dir's mtime, nanoseconds included,
# is unchanged; the image's tar keeps whole seconds. Round them, then cache, so scenes
# never rescan the fonts (nor write a cache of their own).
mapfile -t FONT_DIRS < <(
  { echo /usr/share/fonts; echo /usr/local/share/fonts
    grep -ohE '<dir>/[^<]+</dir>' "$ROOTFS"/etc/fonts/fonts.conf "$ROOTFS"/etc/fonts/conf.d/*.conf 2>/dev/null \
      | sed -e 's:<dir>::' -e 's:</dir>::'
  } | sort -u | while read -r d; do [ -d "$ROOTFS$d" ] && echo "$ROOTFS$d"; done)
find -L "${FONT_DIRS[@]}" -type d -exec touch -m -d "@$(date +%s)" {} +
in_root fc-cache -s -f >/dev/null
umount "$ROOTFS/proc"
cp "$ROOTFS/var/log/dpkg.log" "$LOGS/dpkg.log"
rm -f "$ROOTFS/usr/sbin/policy-rc.d"
: >"$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
  "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/log/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
  "$ROOTFS"/usr/share/lintian "$ROOTFS"/root/.cache
# debootstrap's own packages were unpacked before dpkg-slim.cfg was in place.
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
chmod 1777 "$ROOTFS/tmp"

# 6. Into the engine.
step "docker import ($(du -sh --one-file-system "$ROOTFS" | cut -f1))"
MANIM_VERSION="$(grep -i '^manim==' "$WORK/requirements.lock" | cut -d= -f3)"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change "USER $IMAGE_UID" \
  --change "WORKDIR /sandbox" \
  --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
  --change "ENV LANG=C.UTF-8" \
  --change "CMD [\"$IMAGE_PYTHON\"]" \
  --change "LABEL org.c2v.manim=$MANIM_VERSION org.c2v.python=$IMAGE_PYTHON" \
  --message "c2v sandbox image (manim $MANIM_VERSION)" \
  - "$TAG" >/dev/null

SIZE="$(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
step "built sandbox image $TAG ($SIZE) in ${SECONDS}s"
OLD="$(docker image ls "${TAG%%:*}" --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$TAG" || true)"
[ -z "$OLD" ] || echo "sandbox-image: older images can be removed with: docker image rm $(echo "$OLD" | tr '\n' ' ')"
