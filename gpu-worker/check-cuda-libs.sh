#!/usr/bin/env bash
# Fails (exit 1) unless every shared library that onnxruntime-node's CUDA execution provider
# needs can be found in this image. Run by gpu-worker/Dockerfile in the runtime stage, so that
# an image whose CUDA libraries do not match the provider is never built (instead of a worker
# that exits at start on the GPU host and an ECS deployment that rolls back).
#
#   check-cuda-libs.sh BIN_DIR [LIB ...]
#
# BIN_DIR: onnxruntime-node's native folder (bin/napi-v6/linux/x64). Every *.so* and *.node in
# it is checked with ldd. LIB: sonames the provider opens with dlopen at run time (ldd cannot
# see those), which must be in LD_LIBRARY_PATH or the loader's cache (ldconfig -p); default
# libcudnn.so.9.
#
# libcuda.so.1 is the one exception: it is the driver's library, which the NVIDIA container
# toolkit mounts into the container at run time; no image may ship it.
set -euo pipefail

bin_dir="${1:?usage: check-cuda-libs.sh BIN_DIR [LIB ...]}"
shift
dlopened=("$@")
[ ${#dlopened[@]} -gt 0 ] || dlopened=(libcudnn.so.9)
driver_lib='libcuda.so.1'

status=0
for required in libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
  if [ ! -f "$bin_dir/$required" ]; then
    echo "check-cuda-libs: $bin_dir/$required is missing (onnxruntime-node's install script did not add the CUDA provider)" >&2
    status=1
  fi
done

shopt -s nullglob
for lib in "$bin_dir"/*.so* "$bin_dir"/*.node; do
  # ldd exits non-zero for files it cannot read as ELF; that is a failure too.
  if ! out="$(ldd "$lib" 2>&1)"; then
    echo "check-cuda-libs: ldd failed on $lib: $out" >&2
    status=1
    continue
  fi
  missing="$(printf '%s\n' "$out" | awk '/=> not found/ { print $1 }' | grep -vxF "$driver_lib" || true)"
  if [ -n "$missing" ]; then
    echo "check-cuda-libs: $(basename "$lib") needs libraries this image lacks: $(echo "$missing" | tr '\n' ' ')" >&2
    status=1
  fi
done

# dlopen finds a bare soname through LD_LIBRARY_PATH first, then the loader's cache.
known_to_loader() {
  local dir
  IFS=':' read -r -a dirs <<< "${LD_LIBRARY_PATH:-}"
  for dir in "${dirs[@]}"; do
    [ -n "$dir" ] && [ -e "$dir/$1" ] && return 0
  done
  # grep reads all its input (no -q): an early exit would SIGPIPE awk, which pipefail reports as a failure.
  ldconfig -p | awk '{ print $1 }' | grep -xF -- "$1" >/dev/null
}
for soname in "${dlopened[@]}"; do
  if ! known_to_loader "$soname"; then
    echo "check-cuda-libs: $soname (opened by the CUDA provider at run time) is not known to the dynamic loader" >&2
    status=1
  fi
done

if [ "$status" -eq 0 ]; then
  echo "check-cuda-libs: every library of the CUDA provider in $bin_dir resolves (the driver's $driver_lib comes from the host)"
fi
exit "$status"
