"""The suite's own options (``tests/conftest.py``), run as a developer runs them: a pytest subprocess."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cpu_durations_lists_the_tests_under_the_default_two_workers():
    """``--cpu-durations N`` under pytest-xdist (the default ``-n 2``): each worker kept its tests' CPU seconds
    in its own memory and the controller, which prints the summary, had none, so the option printed nothing.
    Now every phase's report carries its CPU seconds to the controller."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "load",
                           "--cpu-durations", "2", "tests/test_stats.py", "-k", "by_hand"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))
    assert "slowest 2 CPU times (process + waited-for subprocesses)" in done.stdout, done.stdout
    listed = re.findall(r"^ +(\d+\.\d\d)s cpu  (tests/test_stats\.py::test_\w+by_hand)$", done.stdout, re.M)
    assert len(listed) == 2 and len({name for _, name in listed}) == 2, done.stdout
    total = re.search(r"^ +(\d+\.\d\d)s cpu  in all \((\d+) tests\)$", done.stdout, re.M)
    assert total and int(total.group(2)) == passed >= 3, done.stdout
    assert float(listed[0][0]) >= float(listed[1][0]) and float(total.group(1)) >= float(listed[0][0]), done.stdout
