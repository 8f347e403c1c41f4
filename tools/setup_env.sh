#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with the verified stack:
#   torch 2.13.0 (CPU), mmcv 2.1.0 built from source with its C++ ops, mmengine 0.10.7,
#   mmdet 3.3.0, pycocotools, numpy, openmim, 77 <= setuptools < 81 (still ships pkg_resources),
#   and the deploy extra (onnx, onnxruntime: ONNX export and inference, docs/deployment.md).
#
# The mmcv build takes about 9 minutes on 2 cores, so the built wheel is kept in a per-machine
# cache folder (MMORCNN_WHEEL_CACHE, default ~/.cache/mmorcnn/wheels) and reused by every clone.
#
# Usage: bash tools/setup_env.sh [VENV_DIR]      (default: .venv)
set -euo pipefail

VENV=${1:-.venv}
PYTHON=${PYTHON:-python3}
WHEEL_CACHE=${MMORCNN_WHEEL_CACHE:-$HOME/.cache/mmorcnn/wheels}
STAMP="$VENV/.mmorcnn-env-ok"
HERE=$(cd "$(dirname "$0")/.." && pwd)

TORCH_VERSION=2.13.0
MMCV_VERSION=2.1.0
SETUPTOOLS_SPEC='setuptools>=77,<81'

up_to_date() {  # the stamp is newer than every file that decides what is installed
  [ -f "$STAMP" ] || return 1
  for f in "$HERE/setup.py" "$HERE/requirements.txt" "$HERE"/requirements/*.txt "$0"; do
    [ "$STAMP" -nt "$f" ] || return 1
  done
}
if up_to_date; then
  echo "[setup_env] reusing $VENV"
  exit 0
fi

start=$(date +%s)
log() { echo "[setup_env $(( $(date +%s) - start ))s] $*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log "base tooling"
$PIP install -q --upgrade 'pip>=24' "$SETUPTOOLS_SPEC" wheel ninja

log "torch $TORCH_VERSION (CPU)"
$PIP install -q "torch==$TORCH_VERSION"

# openmim depends on opendatalab -> openxlab, which pins setuptools~=60.2 (no longer accepted by
# torch 2.13) and an old requests. mim's train/test/run commands never import them, so openmim
# is installed without them and its other dependencies are named here.
log "openmim (without openxlab's pins)"
$PIP install -q --no-deps openmim
$PIP install -q Click colorama model-index pandas requests rich tabulate

log "mmengine, numpy, pycocotools and mmcv's runtime dependencies"
$PIP install -q -r "$HERE/requirements/build.txt"

# mmcv 2.1.0 has no wheel on PyPI. Without torch in the build environment (build isolation) it
# silently builds without ops, hence --no-build-isolation and MMCV_WITH_OPS=1.
TORCH_TAG=$("$VENV/bin/python" -c 'import sys, torch; v = torch.__version__.split("+")[0]; print("torch%s-cp%d%d" % (v, *sys.version_info[:2]))')
MMCV_DIR="$WHEEL_CACHE/mmcv-$MMCV_VERSION-$TORCH_TAG"
mkdir -p "$MMCV_DIR"
if ! ls "$MMCV_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  log "building mmcv $MMCV_VERSION with ops (about 9 minutes, once per machine) into $MMCV_DIR"
  tmp=$(mktemp -d -p "$MMCV_DIR")
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    $PIP wheel -q --no-build-isolation --no-deps --no-binary mmcv "mmcv==$MMCV_VERSION" -w "$tmp"
  mv "$tmp"/mmcv-*.whl "$MMCV_DIR"/ && rmdir "$tmp"
else
  log "reusing the cached mmcv wheel in $MMCV_DIR"
fi
$PIP install -q "$MMCV_DIR"/mmcv-"$MMCV_VERSION"-*.whl

log "mmdet, mmorcnn (editable), the test tools and the deploy extra (onnx, onnxruntime)"
$PIP install -q -r "$HERE/requirements.txt" -r "$HERE/requirements/tests.txt" \
  -r "$HERE/requirements/deploy.txt"
$PIP install -q --no-build-isolation --no-deps -e "$HERE"
$PIP install -q "$SETUPTOOLS_SPEC"

"$VENV/bin/python" - <<'EOF'
import mmcv, mmdet, mmengine, torch, pkg_resources  # noqa: F401
from mmcv.ops import RoIAlign, nms  # noqa: F401  fails when mmcv was built without ops
import mmorcnn  # noqa: F401
import onnx, onnxruntime  # noqa: F401,E401  the deploy extra
print(f'[setup_env] torch {torch.__version__}, mmcv {mmcv.__version__} (with ops), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, onnx {onnx.__version__}, '
      f'onnxruntime {onnxruntime.__version__}')
EOF
touch "$STAMP"
log "environment ready in $VENV"
