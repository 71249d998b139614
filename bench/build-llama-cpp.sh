#!/usr/bin/env bash
# Builds llama.cpp natively for this CPU (GGML_NATIVE=ON) from the source bundle that the npm package
# node-llama-cpp carries, so the bench compares against the same llama.cpp revision without network access.
# Usage: bench/build-llama-cpp.sh DEST [JOBS]   (DEST must lie outside any git repository, e.g. /work/llama.cpp)
set -euo pipefail
dest="${1:?usage: bench/build-llama-cpp.sh DEST [JOBS]}"
jobs="${2:-2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[ -f "$bundle" ] || { echo "build-llama-cpp: $bundle is missing (is node-llama-cpp installed?)" >&2; exit 1; }
command -v cmake >/dev/null || { echo "build-llama-cpp: cmake is missing (apt-get install -y cmake build-essential)" >&2; exit 1; }
[ -d "$dest/.git" ] || git clone "$bundle" "$dest"
cmake -S "$dest" -B "$dest/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF
# llama-bench first (what bench/ needs), then the tools other work uses; each target reuses what the
# previous one built.
for target in llama-bench llama-quantize llama-server llama-cli llama-cvector-generator; do
  nice -n 10 cmake --build "$dest/build" --config Release -j"$jobs" --target "$target"
done
ls -l "$dest/build/bin"
