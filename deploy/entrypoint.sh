#!/bin/sh
# Container entry point: gives every process a fresh Prometheus multiprocess directory (stale files from
# an earlier run would be added to the counters), then runs the command (web, worker or beat).
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
