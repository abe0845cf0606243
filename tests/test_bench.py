"""`make bench`'s pure parts: the median of runs, the build log lines it reads, its JSON line, and the
floor's in-process chapter runner (no timing is asserted: speed is shown by the benchmark)."""

from __future__ import annotations

import json

import pytest

from ixathaldex.site import bench
from ixathaldex.site import floor

LOG = """\
validating 1 snapshot(s)
  2019-12-31 chapters/01_patients.md          executed    3.2 s
  2019-12-31 chapters/02_response.md          cached      0.0 s
  2019-12-31 ARD (412 statistics)             computed    0.4 s
  2019-12-31 book/reviewer.md                 executed   11.0 s
  2019-12-31 pdf                              printed     7.5 s
  2019-12-31 jupyter-book build               built      21.9 s
site _build/site: 1 version(s) built (2019-12-31), 0 unchanged; notebooks 2 executed, 1 cached; 40.1 s
"""


def test_parse_build_log_reads_every_progress_line():
    rows = bench.parse_build_log(LOG)
    assert [(r["what"], r["status"], r["seconds"]) for r in rows] == [
        ("chapters/01_patients.md", "executed", 3.2), ("chapters/02_response.md", "cached", 0.0),
        ("ARD (412 statistics)", "computed", 0.4), ("book/reviewer.md", "executed", 11.0),
        ("pdf", "printed", 7.5), ("jupyter-book build", "built", 21.9)]
    assert {r["version"] for r in rows} == {"2019-12-31"}


def test_pdf_seconds_sums_the_printed_lines_of_every_version():
    two = LOG + "  2018-06-30 pdf                              printed     2.5 s\n"
    assert bench.pdf_seconds(two) == pytest.approx(10.0)
    assert bench.pdf_seconds(LOG.replace("pdf  ", "xyz  ")) is None


@pytest.mark.parametrize("seconds,expected", [([5.0], 5.0), ([9.0, 1.0, 4.0], 4.0), ([3.0, 1.0, 2.0, 8.0], 2.0)])
def test_median_run_takes_the_run_of_median_time(seconds, expected):
    runs = [{"rc": 0, "seconds": s, "load": float(i)} for i, s in enumerate(seconds)]
    chosen = bench.median_run(runs)
    assert chosen["seconds"] == expected
    assert chosen["runs"] == seconds  # in the order they ran
    assert chosen["loads"] == [0.0, 1.0, 2.0, 3.0][:len(seconds)]


def test_median_run_shows_a_failed_run():
    runs = [{"rc": 0, "seconds": 1.0}, {"rc": 2, "seconds": 9.0}, {"rc": 0, "seconds": 2.0}]
    assert bench.median_run(runs)["rc"] == 2
    with pytest.raises(ValueError):
        bench.median_run([])


def test_repeat_collects_each_step_and_stops_at_a_failure():
    calls = []

    def once(i):
        calls.append(i)
        return {"a": {"rc": 0, "seconds": 10.0 - i, "load": 0.5}, "b": {"rc": 1 if i == 1 else 0, "seconds": 1.0}}

    out = bench.repeat(3, once)
    assert calls == [0, 1]  # the second run failed: no third
    assert out["a"]["runs"] == [10.0, 9.0]
    assert out["b"]["rc"] == 1
    assert out["b"]["loads"][0] is not None  # read by repeat when the step did not say


def test_summary_keeps_the_keys_and_seconds_and_adds_load_runs_and_ratios():
    results = {"cold": {"rc": 0, "seconds": 20.123, "output": "x" * 50, "load": 1.5, "runs": [20.12]},
               "one_cold": {"rc": 0, "seconds": 14.0, "without_pdf": 10.0, "to_reference": 0.5},
               "reference": {"rc": 0, "seconds": 20.0},
               "floor": {"rc": 0, "seconds": 9.0, "imports": 3.0, "analyses": 2.0, "sphinx": 4.0},
               "pdf": {"rc": 0, "seconds": 4.0}}
    line = json.loads(json.dumps(bench.summary(results)))
    assert list(line) == ["cold", "one_cold", "reference", "floor", "pdf"]
    assert all(isinstance(v["seconds"], float) and v["rc"] == 0 for v in line.values())
    assert line["cold"] == {"seconds": 20.12, "rc": 0, "load": 1.5, "runs": [20.12]}
    assert line["one_cold"]["to_reference"] == 0.5 and line["one_cold"]["without_pdf"] == 10.0
    assert (line["floor"]["imports"], line["floor"]["analyses"], line["floor"]["sphinx"]) == (3.0, 2.0, 4.0)
    assert "output" not in line["cold"]


def test_line_prints_the_load_before_each_run():
    text = bench.line("step", {"rc": 0, "seconds": 3.0, "runs": [2.0, 3.0, 4.0], "loads": [0.5, 1.25, 2.0]})
    assert "load 0.5/1.2/2.0" in text and "runs 2.0/3.0/4.0" in text
    assert "FAILED (exit 1)" in bench.line("step", {"rc": 1, "seconds": 1.0, "load": 3.0})


def test_the_bench_refuses_zero_runs():
    with pytest.raises(SystemExit):
        bench.main(["--runs", "0"])


CHAPTER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A chapter

```{code-cell} ipython3
:tags: [parameters]
snapshot = "1999-01-01"
```

```{code-cell} ipython3
%config InlineBackend.figure_formats = ['svg']
import matplotlib.pyplot as plt
seen = snapshot
assert "left_over" not in dir(), "a name of the previous chapter is still defined"
left_over = 1
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
```
"""


@pytest.fixture
def inline_backend(monkeypatch, tmp_path):
    """The floor's shell switches matplotlib's backend, the working folder and ``sys.modules["__main__"]``
    (IPython puts its own namespace module there, without ``__spec__``, which breaks every later
    spawned process of the test session): all restored after, the shell singleton cleared."""
    import sys

    import matplotlib
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    before = matplotlib.get_backend()
    yield
    matplotlib.use(before)
    InteractiveShell.clear_instance()


def test_the_floor_runs_a_chapter_with_its_snapshot_and_a_fresh_namespace(tmp_path, inline_backend):
    path = tmp_path / "01_x.md"
    path.write_text(CHAPTER, encoding="utf-8")
    shell = floor.make_shell()
    floor.run_chapter(shell, path, "2019-12-31")
    assert shell.user_ns["seen"] == "2019-12-31"  # the parameters cell is replaced, as papermill does
    floor.run_chapter(shell, path, "2018-06-30")  # would fail if `left_over` survived the reset
    assert shell.user_ns["seen"] == "2018-06-30"
    path.write_text(CHAPTER.replace("left_over = 1", "1 / 0"), encoding="utf-8")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        floor.run_chapter(shell, path, "2019-12-31")


def test_breakdown_names_the_slowest_notebook_and_sums_the_steps():
    out = ("  2019-12-31 chapters/03_survival.md          executed    6.0 s\n"
           "  2019-12-31 chapters/01_patients.md          executed    1.5 s\n"
           "  2019-12-31 ARD (971 statistics)             computed    1.2 s\n"
           "  2019-12-31 pdf                              printed     3.0 s\n"
           "  2019-12-31 jupyter-book build               built       9.0 s\n")
    text = bench.breakdown({"output": out})
    assert "notebooks 7.5 s summed, slowest chapters/03_survival.md 6.0 s" in text
    assert "ARD 1.2 s" in text and "jupyter-book with PDF 9.0 s" in text and "PDF 3.0 s" in text
