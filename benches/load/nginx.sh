#!/usr/bin/env bash
# Starts nginx answering a fixed order JSON on 127.0.0.1:PORT, in the directory DIR (its
# config, pid and logs stay there). Prints nginx's pid; stop it with `kill PID`.
#   benches/load/nginx.sh DIR PORT
set -euo pipefail
dir=$1
port=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$here/nginx.conf" >"$dir/nginx.conf"
nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/nginx.out" 2>&1 &
echo $!
