#!/usr/bin/env bash
# The speed issue's GPU figures in one run on a lent GPU machine (benchmarks/gpu.py).
#
# That machine has PyTorch with CUDA, numpy, scipy, onnx and a CPU onnxruntime, but no
# OpenImageIO and no network. Here, once, in the repository root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_28_x86_64 -d .whl openimageio==3.2.2.0
# then call the device tool's run with command "bash benchmarks/gpu_check.sh", carry [".whl"]
# and timeout_s 540. Figures land in $OUT (gpu.json, gpu.log, nvidia-smi.txt).
# Extra arguments go to gpu.py (e.g. --frames 24 --workers 1,8). The cascade's end-to-end run
# needs OpenCV too; its wheel (opencv-python-headless==5.0.0.93, 61 MB) does not fit beside
# OpenImageIO's in the 64 MiB a run may carry, so without OpenCV on that machine it is skipped.
set -uo pipefail
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/engine${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
out="${OUT:-bench_out/gpu}"
mkdir -p "$out"
python3 -c "import OpenImageIO" 2>/dev/null || {
  echo "OpenImageIO is not importable: download its wheel into .whl first (see this file's top)"
  exit 2
}
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
timeout 480 python3 benchmarks/gpu.py --work /tmp/hotpixel-gpu --json "$out/gpu.json" "$@" \
  2>&1 | tee "$out/gpu.log"
