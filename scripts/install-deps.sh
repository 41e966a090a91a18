#!/usr/bin/env bash
# Installs the system libraries and tools SwiftTML uses: OpenBLAS (cblas), zlib,
# snappy and zstd (Parquet), Open MPI (multi-process training under mpirun),
# hnswlib (header-only ANN index), wrk (HTTP load tests of `tml serve`) and python3-venv
# (the onnxruntime check of `tml recap export-onnx`, tools/onnx/ci.sh).
# Idempotent: does nothing when they are present.
#   Debian/Ubuntu: apt-get    macOS: Homebrew (BLAS comes from Accelerate)
set -euo pipefail

debian_packages=(libopenblas-dev zlib1g-dev libsnappy-dev libzstd-dev pkg-config libopenmpi-dev openmpi-bin libhnswlib-dev wrk python3-venv)
brew_packages=(zlib snappy zstd pkg-config open-mpi hnswlib wrk)

have_debian_packages() {
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

case "$(uname -s)" in
  Linux)
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "install-deps: no apt-get on this Linux. Install these with your package manager," >&2
      echo "  then run 'make test' again: OpenBLAS (with cblas.h and openblas.pc), zlib, snappy, zstd, pkg-config, Open MPI, hnswlib, wrk." >&2
      exit 1
    fi
    if have_debian_packages; then
      echo "install-deps: ${debian_packages[*]} already installed"
      exit 0
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "install-deps: need root (or sudo) to apt-get install ${debian_packages[*]}" >&2; exit 1
      fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${debian_packages[@]}"
    ;;
  Darwin)
    if ! command -v brew >/dev/null 2>&1; then
      echo "install-deps: Homebrew not found; install it from brew.sh, then run again." >&2
      exit 1
    fi
    brew list "${brew_packages[@]}" >/dev/null 2>&1 || brew install "${brew_packages[@]}"
    ;;
  *)
    echo "install-deps: unsupported system $(uname -s). Install OpenBLAS (cblas), zlib, snappy, zstd" >&2
    echo "  and pkg-config yourself, then run 'swift test'." >&2
    exit 1
    ;;
esac
