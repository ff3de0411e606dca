#!/usr/bin/env bash
# Makes sure PostgreSQL answers at 127.0.0.1:5432 (trust auth, user postgres):
# starts the local cluster if it is installed but down, installs it from
# Debian's packages if it is missing, and fails with a clear message otherwise.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
wait_ready() { for _ in $(seq 1 30); do ready && return 0; sleep 1; done; return 1; }

if command -v pg_isready >/dev/null && ready; then
  echo "PostgreSQL answers at 127.0.0.1:5432"
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null; then
  echo "PostgreSQL is not installed; installing it from Debian's packages"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to install PostgreSQL (apt-get install postgresql)" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$version" ]; then
  echo "error: no PostgreSQL cluster under /etc/postgresql" >&2
  exit 1
fi
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  # The tests connect as postgres without a password, as on the dev machines.
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
fi
echo "starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
if ! wait_ready; then
  echo "error: PostgreSQL did not come up at 127.0.0.1:5432; see /var/log/postgresql/" >&2
  exit 1
fi
echo "PostgreSQL answers at 127.0.0.1:5432"
