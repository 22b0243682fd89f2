#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io (and debootstrap, which the
# sandbox image build needs) when missing, start dockerd when it is not running, and wait
# until `docker info` works. Idempotent. Usage: scripts/docker_engine.sh
set -euo pipefail

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "docker: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  $SUDO systemctl start docker || true
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker: starting dockerd (log: /var/log/c2v-dockerd.log)"
  $SUDO sh -c 'nohup dockerd >/var/log/c2v-dockerd.log 2>&1 &'
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "docker: the engine did not start within 30 s; see /var/log/c2v-dockerd.log" >&2
exit 1
