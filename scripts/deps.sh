#!/usr/bin/env bash
# Installs what KubeJournal needs beyond the Swift toolchain, only where it is missing:
# liblmdb-dev (the LMDB C library and headers), libedit-dev, zlib1g-dev, pkg-config and curl; kubectl is on these machines.
# wrk and etcd-server are for `kj bench api` (its test runs a tiny configuration with them).
set -euo pipefail
need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
if ! { [ -f /usr/include/lmdb.h ] && ls /usr/lib/*/liblmdb.so >/dev/null 2>&1; }; then need+=(liblmdb-dev); fi
# libedit: line editing and history for kj debug.
[ -f /usr/include/editline/readline.h ] || need+=(libedit-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${need[*]} (apt-get)" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Python: the JSON Schema validator used by the format tests, and the official kubernetes client
# the acceptance tests run against kj serve.
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema
python3 -c 'import kubernetes' 2>/dev/null || python3 -m pip install -q kubernetes
