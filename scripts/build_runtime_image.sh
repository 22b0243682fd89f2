#!/usr/bin/env bash
# Build the c2v runtime image (c2v-runtime:<version>) that k8s/*.yaml name, without any
# container registry: the sandbox image (scripts/build_sandbox_image.sh: a debootstrap'ed
# Debian root with Manim's system packages and Python) is the base; this adds bubblewrap
# (the sandbox inside a pod), ffmpeg, and c2v with all its dependencies (Ray, Serve, ...)
# installed offline from a wheelhouse built on the host at the host's exact versions, then
# `docker import`s the result.
#
# Usage: scripts/build_runtime_image.sh [--force]
# Push it where the cluster pulls from (see k8s/README.md):
#   docker tag c2v-runtime:0.1.0 REGISTRY/c2v-runtime:0.1.0 && docker push REGISTRY/c2v-runtime:0.1.0
# Caches (git-ignored): .cache/runtime-image/wheels. Knob: C2V_IMAGE_TMPDIR (default /var/tmp).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
CACHE="$PWD/.cache/runtime-image"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1
# The runtime's own Debian packages, on top of the sandbox image's sandbox/image/packages.txt.
EXTRA_PACKAGES=(bubblewrap ffmpeg util-linux ca-certificates procps)

die() { echo "runtime-image: error: $*" >&2; exit 1; }
step() { printf 'runtime-image: [%4ss] %s\n' "$SECONDS" "$*"; }

[ -x "$PY" ] || die "no virtualenv at .venv: run \`make setup-dev\` first"
[ "$(id -u)" -eq 0 ] || die "building the image needs root (chroot): run it with sudo"

# 1. The base: the sandbox image, built (or found up to date) by its own script.
scripts/build_sandbox_image.sh
read -r BASE IMAGE_PYTHON < <("$PY" -c 'from sandbox.image import IMAGE_PYTHON, image_tag; print(image_tag(), IMAGE_PYTHON)')
VERSION="$("$PY" -c 'import c2v; print(c2v.__version__)')"
TAG="c2v-runtime:$VERSION"
if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1 \
  && [ "$(docker image inspect -f '{{index .Config.Labels "org.c2v.base"}}' "$TAG")" = "$BASE" ] \
  && [ "$(docker image inspect -f '{{index .Config.Labels "org.c2v.pyproject"}}' "$TAG")" = "$(sha256sum pyproject.toml | cut -c1-16)" ]; then
  echo "runtime image $TAG is up to date"
  exit 0
fi

WORK="$(mktemp -d "${C2V_IMAGE_TMPDIR:-/var/tmp}/c2v-runtime-image.XXXXXX")"
ROOTFS="$WORK/rootfs"
cleanup() {
  mountpoint -q "$ROOTFS/proc" 2>/dev/null && umount -l "$ROOTFS/proc"
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
in_root() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" "$@"
}

# 2. The wheelhouse, on the host: c2v's wheel and every dependency at the host's versions.
mkdir -p "$CACHE/wheels" "$ROOTFS"
"$PY" -m pip freeze --exclude-editable --disable-pip-version-check >"$WORK/requirements.lock"
step "wheelhouse: $(wc -l <"$WORK/requirements.lock") pinned packages + c2v into $CACHE/wheels"
"$PY" -m pip wheel -q --disable-pip-version-check --find-links "$CACHE/wheels" -w "$CACHE/wheels" \
  -r "$WORK/requirements.lock" >/dev/null || die "building the wheelhouse failed (PyPI access?)"
rm -f "$CACHE"/wheels/c2v-*.whl
"$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$CACHE/wheels" . >/dev/null

# 3. The sandbox image's root, unpacked.
step "unpacking $BASE"
container="$(docker create "$BASE")"
docker export "$container" | tar -x -C "$ROOTFS"
docker rm "$container" >/dev/null
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
mount -t proc proc "$ROOTFS/proc"
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"

# 4. The runtime's packages, and c2v into the same virtualenv as Manim (/opt/c2v).
step "apt-get install ${EXTRA_PACKAGES[*]}"
in_root apt-get update -qq
in_root apt-get install -y -qq "${EXTRA_PACKAGES[@]}" >"$WORK/apt.log" 2>&1 \
  || { tail -n 30 "$WORK/apt.log" >&2; die "apt-get install failed in the image root"; }
step "pip install --no-index c2v"
mkdir -p "$ROOTFS/tmp/wheels"
cp "$CACHE"/wheels/*.whl "$ROOTFS/tmp/wheels/"
cp "$WORK/requirements.lock" "$ROOTFS/tmp/requirements.lock"
"$PY" -m pip download -q --no-deps -d "$ROOTFS/tmp/wheels" pip >/dev/null
# Wheel names are found on the host side: a glob in an in_root argument would be expanded
# against the host's /tmp, not the image root's.
PIP_WHEEL="$(basename "$(ls "$ROOTFS"/tmp/wheels/pip-*.whl | head -n1)")"
C2V_WHEEL="$(basename "$(ls "$ROOTFS"/tmp/wheels/c2v-*.whl | head -n1)")"
in_root "$IMAGE_PYTHON" "/tmp/wheels/$PIP_WHEEL/pip" install -q --no-index --find-links /tmp/wheels \
  --ignore-requires-python --disable-pip-version-check --no-cache-dir -r /tmp/requirements.lock \
  "/tmp/wheels/$C2V_WHEEL"
in_root /opt/c2v/bin/c2v --version >/dev/null || die "c2v does not run in the image"
in_root /opt/c2v/bin/ray --version >/dev/null || die "ray does not run in the image"

# 5. KubeRay runs `ray start` as uid 1000 with a home; then slim and import.
step "user, cleanup, docker import"
in_root useradd --uid 1000 --create-home --home-dir /home/ray --shell /bin/bash ray 2>/dev/null || true
umount "$ROOTFS/proc"
rm -f "$ROOTFS/usr/sbin/policy-rc.d"
: >"$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/tmp/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
  "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/root/.cache
chmod 1777 "$ROOTFS/tmp"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change "USER 1000" \
  --change "WORKDIR /home/ray" \
  --change "ENV HOME=/home/ray" \
  --change "ENV PATH=/opt/c2v/bin:/usr/local/bin:/usr/bin:/bin" \
  --change "ENV LANG=C.UTF-8" \
  --change "CMD [\"/bin/bash\"]" \
  --change "LABEL org.c2v.base=$BASE org.c2v.pyproject=$(sha256sum pyproject.toml | cut -c1-16)" \
  --message "c2v runtime image $VERSION (on $BASE)" \
  - "$TAG" >/dev/null
step "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
