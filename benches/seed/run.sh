#!/bin/sh
# Seeding a 1 GiB volume: `git sandbox seed` (docker cp through this process, helpers never
# started) against `docker run --rm -v a:/from -v b:/to IMAGE cp -a` on the same engine.
# Wall time and peak RSS (GNU time's "Maximum resident set size") of each side.
# Usage: benches/seed/run.sh [BIN] (default target/debug/git-sandbox); needs the test image
# git-sandbox-test-httpd:1 (built by `cargo test --test cli seed::`).
set -eu
BIN=$(realpath "${1:-target/debug/git-sandbox}")
IMAGE=git-sandbox-test-httpd:1
MB=${GIT_SANDBOX_BENCH_SEED_MB:-1024}
work=$(mktemp -d); tag=gsbxbench$$
export GIT_SANDBOX_HOME="$work/home"
repo="$work/$tag"; mkdir -p "$repo"
cleanup() {
  (cd "$repo" && docker-compose down -v >/dev/null 2>&1) || true
  for v in $(docker volume ls -q --filter "name=$tag"); do docker volume rm -f "$v" >/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$repo"
git init -q . && git config user.email b@b && git config user.name b
cat > docker-compose.yml <<YML
services:
  db:
    image: $IMAGE
    entrypoint: ["/busybox", "sleep", "1000000"]
    stop_signal: SIGKILL
    volumes: ["data:/data"]
volumes:
  data:
YML
printf '[compose]\nseed = ["data"]\n' > .sandbox.toml
git add . && git commit -qm bench
docker-compose up -d >/dev/null 2>&1
src="${tag}_data"
# 1 GiB in 64 MiB files of random bytes (not compressible, not sparse).
docker run --rm -v "$src:/d" --entrypoint /busybox $IMAGE sh -c \
  "i=0; while [ \$i -lt $((MB / 64)) ]; do /busybox dd if=/dev/urandom of=/d/f\$i bs=1M count=64 2>/dev/null; i=\$((i+1)); done"
"$BIN" new s >/dev/null
sync
echo "== git sandbox seed ($MB MiB)"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$BIN" -C "$(ls -d "$work"/*--s)" seed 2>&1 | grep -v '^$' | tail -3
docker volume create "${tag}_b" >/dev/null
sync
echo "== docker run --rm -v a:/from -v b:/to $IMAGE cp -a"
/usr/bin/time -f "wall %e s, peak RSS %M KiB (the docker CLI's)" docker run --rm -v "$src:/from" -v "${tag}_b:/to" --entrypoint /busybox $IMAGE cp -a /from/. /to/ 2>&1 | tail -1
