#!/bin/bash
# The default test suite on a lent GPU machine (the device tool's `run`), whose image has jax with CUDA, pytest
# and pytest-xdist but not gymnasium, Box2D, MuJoCo, pygame or tensorboardX. Those travel as wheels in `.whl/`
# (ignored through .git/info/exclude), made here once:
#
#   echo /.whl/ >> .git/info/exclude; for spec in gymnasium==1.4.0 farama-notifications==0.0.6 tensorboardX==2.6.5 \
#       Box2D==2.3.10 pygame-ce==2.5.8 mujoco==4.0.1 mujoco-core==4.0.1 glfw==2.11.0 PyOpenGL==3.1.10; do
#     python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#       --platform manylinux2014_x86_64 -d .whl $spec; done
#
# then, as one device call carrying `.whl` and `rl_zoo.egg-info` (about 3.5 min on an H200 with 16 cores):
#
#   bash tests/gpu_suite.sh [PYTEST_TIMEOUT_S=300] [WORKERS=14]
#
# tests/conftest.py adds XLA_FLAGS=--xla_gpu_deterministic_ops=true (the exact-resume tests need it on a GPU).
# The log comes back as $OUT/gpu_tests.log; tests/README.md records the runs.
set -o pipefail
if ! python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir .whl/*.whl -e . > /tmp/pip.log 2>&1; then
  # a fallback only: the two MODULE:ID tests of test_envs_registry start fresh processes without PYTHONPATH
  # (or isolated, -I), which then miss /tmp/site and rl_zoo (the first H200 run's set-up, tests/README.md)
  tail -n 5 /tmp/pip.log; echo "editable install failed: wheels to /tmp/site, rl_zoo on PYTHONPATH, a shim rl-zoo"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=$PWD:/tmp/site; mkdir -p /tmp/bin
  printf '#!/bin/sh\nexec python3 -c "import sys; sys.argv[0] = \\"rl-zoo\\"; from rl_zoo.cli import console_main; console_main()" "$@"\n' > /tmp/bin/rl-zoo
  chmod +x /tmp/bin/rl-zoo; export PATH=/tmp/bin:$PATH
fi
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
nvidia-smi -L; nproc; which rl-zoo
python3 -c "import jax, gymnasium, mujoco, Box2D, pygame, ml_dtypes, rl_zoo; print('jax', jax.__version__, jax.devices(), 'gymnasium', gymnasium.__version__, 'mujoco', mujoco.__version__, 'ml_dtypes', ml_dtypes.__version__, rl_zoo.__file__)"
rl-zoo --version; echo "XLA_FLAGS=$XLA_FLAGS"
start=$(date +%s)
timeout ${1:-300} python3 -m pytest -q -n ${2:-14} --dist loadfile -p no:cacheprovider -rfEs --durations=10 tests 2>&1 | tee $OUT/gpu_tests.log
echo "pytest rc $?, $(( $(date +%s) - start )) s whole" | tee -a $OUT/gpu_tests.log
