"""The bench's measure of a whole process tree (site.sampler): memory summed over processes, CPU by kind."""

from __future__ import annotations

import os
import sys

from ixathaldex.site.sampler import run_measured

CHILD = "import time; block = bytearray(80 * 1024 * 1024); block[::4096] = b'x' * len(block[::4096]); time.sleep(1.5)"
PARENT = f"""
import subprocess, sys, time
kids = [subprocess.Popen([sys.executable, "-c", {CHILD!r}]) for _ in range(2)]
sum(range(3_000_000))
for k in kids:
    k.wait()
"""


def test_the_peak_is_summed_over_the_whole_tree_and_cpu_is_counted(tmp_path):
    result = run_measured([sys.executable, "-c", PARENT], tmp_path, dict(os.environ))
    assert result["rc"] == 0
    # two grandchildren of 80 MiB each, alive together: no single process holds more than one
    assert result["tree_rss_mib"] > 160
    if result["tree_pss_mib"] is not None:
        assert result["tree_uss_mib"] <= result["tree_pss_mib"] <= result["tree_rss_mib"]
    assert result["cpu"] > 0
    kinds = result["cpu_by_kind"]
    assert kinds["build"]["processes"] == 1 and kinds["other"]["processes"] == 2
