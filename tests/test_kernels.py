"""The kernels' fork server (site.zygote, site.kernels): isolation between notebooks, the same outputs
as a fresh kernel, parameters reaching each notebook, readable failures, and no process left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from ixathaldex.exceptions import BuildError
from ixathaldex.site import execute as ex
from ixathaldex.site import zygote as zg

HEADER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def myst(path: Path, *cells: str, parameters: str = 'snapshot = ""\nzygote_pid = 0') -> Path:
    """A MyST notebook at ``path``: a parameters cell, then one code cell per ``cells``."""
    body = [HEADER, f"```{{code-cell}} ipython3\n:tags: [parameters]\n\n{parameters}\n```\n"]
    body += [f"```{{code-cell}} ipython3\n{textwrap.dedent(c).strip()}\n```\n" for c in cells]
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def job(tmp_path: Path, source: Path, **parameters) -> ex.NotebookJob:
    key = source.stem + "-" + "-".join(f"{k}{v}" for k, v in sorted(parameters.items()))
    return ex.NotebookJob(version="2019-12-31", label=f"chapters/{source.name}", source=source,
                          parameters=parameters, key=key, output=tmp_path / "cache" / f"{key}.ipynb", cwd=tmp_path)


def outputs(path: Path) -> list:
    """A notebook's code-cell outputs, without what differs between any two executions (execution
    counts, matplotlib's SVG date and random clip-path ids)."""
    nb = json.loads(path.read_text())
    cells = [c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in cells:
        for out in cell:
            out.pop("execution_count", None)
    text = re.sub(r"<dc:date>[^<]*</dc:date>", "", json.dumps(cells, sort_keys=True))
    return json.loads(re.sub(r"\b[pm][0-9a-f]{10}\b", "ID", text))


# ---- fast: the parts -------------------------------------------------------------------------------

def test_the_fork_server_stands_only_for_an_ipykernel_of_this_interpreter():
    assert zg.can_stand_for([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not zg.can_stand_for(["/usr/bin/false", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not zg.can_stand_for([sys.executable, "-m", "other_kernel", "-f", "k.json"])
    assert not zg.can_stand_for([sys.executable])


@pytest.mark.parametrize("value,enabled", [("", True), ("fork", True), ("fresh", False), ("OFF", False)])
def test_the_fork_server_can_be_turned_off(monkeypatch, value, enabled):
    monkeypatch.setenv(zg.ENV_VAR, value)
    assert zg.fork_server_enabled() is enabled


def test_kernel_options_name_the_manager_that_forks(tmp_path):
    from ixathaldex.site import kernels

    assert ex.kernel_options("") == {}
    options = ex.kernel_options(str(tmp_path / "s"))
    module, name = options["kernel_manager_class"].rsplit(".", 1)
    assert module == kernels.__name__ and getattr(kernels, name) is kernels.ForkedKernelManager
    manager = kernels.ForkedKernelManager(kernel_name="python3", config=options["config"])
    assert manager.zygote_address == str(tmp_path / "s")


def test_the_preload_leaves_matplotlibs_inline_backend_to_the_kernel():
    """matplotlib_inline's backend hooks itself into IPython when it is imported: imported in the
    zygote (no IPython there) it would not, and figures would lose their SVG."""
    code = ("import sys; from ixathaldex.site import zygote; print(zygote.preload()); "
            "print('matplotlib_inline.backend_inline' in sys.modules, 'IPython.core.getipython' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]", out[0]
    assert out[1].startswith("False")


def test_a_zygote_that_cannot_fork_is_an_os_error(tmp_path, monkeypatch):
    monkeypatch.setattr(zg, "CONNECT_SECONDS", 0.2)
    with pytest.raises(OSError):
        zg.fork_kernel(str(tmp_path / "none"), [sys.executable, "-m", "ipykernel_launcher"], str(tmp_path), {}, 2)


# ---- slow: kernels forked and driven by papermill ------------------------------------------------

FIRST = """
import os
import matplotlib as mpl
import pandas as pd
import seaborn as sns
from ixathaldex.analysis import populations
assert os.getppid() == zygote_pid, "forked by the build's zygote"
mpl.rcParams["lines.linewidth"] = 7.5
sns.set_theme(style="darkgrid")
LEFT_BEHIND = snapshot
populations.DERIVED_ADSL.kept["planted"] = pd.DataFrame({"a": [1]})
os.environ["IXATHALDEX_LEFT_BEHIND"] = "1"
assert mpl.rcParams["axes.facecolor"] != "white" and populations.DERIVED_ADSL.kept
"""

SECOND = """
import os
import matplotlib as mpl
from ixathaldex.analysis import populations
assert os.getppid() == zygote_pid, "forked by the build's zygote"
assert snapshot == "2019-12-31", snapshot
assert "LEFT_BEHIND" not in globals()
assert mpl.rcParams["lines.linewidth"] == 1.5, mpl.rcParams["lines.linewidth"]
assert mpl.rcParams["axes.facecolor"] == "white", "no seaborn theme"
assert not populations.DERIVED_ADSL.kept, "no derive_adsl result of another notebook"
assert "IXATHALDEX_LEFT_BEHIND" not in os.environ
"""


@pytest.mark.slow
def test_nothing_of_one_notebook_is_seen_by_the_next(tmp_path):
    first = myst(tmp_path / "first.md", FIRST)
    second = myst(tmp_path / "second.md", SECOND)
    with zg.Zygote() as zygote:
        assert zygote.address  # started: its pid is known
        pid = zygote.pid
        jobs = [job(tmp_path, first, snapshot="2018-06-30", zygote_pid=pid),
                job(tmp_path, second, snapshot="2019-12-31", zygote_pid=pid)]
        ex.run_jobs(jobs[:1], 1, None, zygote)  # in this order, one after the other
        ex.run_jobs(jobs[1:], 1, None, zygote)
    assert all(j.status == "executed" and j.output.is_file() for j in jobs)


PLOT = """
%config InlineBackend.figure_formats = ['svg']
import matplotlib.pyplot as plt
import pandas as pd
from myst_nb import glue
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1, 2], [2, 0, 1])
glue("demo.fig", fig, display=False)
glue("demo.n", len(snapshot))
display(pd.DataFrame({"cut": [snapshot], "n": [3]}))
print("parameters:", snapshot)
fig
"""


@pytest.mark.slow
def test_a_forked_kernel_gives_the_outputs_of_a_fresh_one(tmp_path):
    source = myst(tmp_path / "plot.md", PLOT)
    fresh = job(tmp_path, source, snapshot="2019-12-31")
    ex.run_jobs([fresh], 1, None, None)
    forked = job(tmp_path, source, snapshot="2019-12-31", zygote_pid=1)
    with zg.Zygote() as zygote:
        ex.run_jobs([forked], 1, None, zygote)
    assert forked.kernels and not fresh.kernels
    a, b = outputs(fresh.output), outputs(forked.output)
    assert a == b
    mimes = {m for cell in a for o in cell for m in o.get("data", {})}
    assert "image/svg+xml" in mimes and "application/papermill.record/image/svg+xml" in mimes
    assert any("parameters: 2019-12-31" in "".join(o.get("text", "")) for cell in a for o in cell)
    injected = nbformat.read(forked.output, as_version=4).cells[1]
    assert "injected-parameters" in injected.metadata.tags and 'snapshot = "2019-12-31"' in injected.source


@pytest.mark.slow
def test_each_notebook_gets_its_own_parameters_through_the_fork_server(tmp_path):
    source = myst(tmp_path / "p.md", 'print("cut", snapshot)')
    jobs = [job(tmp_path, source, snapshot=cut) for cut in ("2018-06-30", "2019-12-31", "2020-06-30")]
    idle = []
    with zg.Zygote() as zygote:
        ex.run_jobs(jobs, 2, None, zygote, when_idle=lambda: idle.append(sum(j.status == "executed" for j in jobs)))
    assert idle == [2], "called once, when a process ran out of notebooks (two of three done)"
    for j in jobs:
        printed = [o for cell in outputs(j.output) for o in cell if o.get("name") == "stdout"]
        assert "".join(printed[0]["text"]).strip() == f"cut {j.parameters['snapshot']}"


@pytest.mark.slow
def test_a_failing_notebook_still_says_where_and_why(tmp_path):
    source = myst(tmp_path / "bad.md", "x = 1", 'raise ValueError("no such column: AGE")')
    with zg.Zygote() as zygote, pytest.raises(BuildError) as err:
        ex.run_jobs([job(tmp_path, source, snapshot="2019-12-31")], 1, None, zygote)
    assert str(err.value).startswith("version 2019-12-31, chapter chapters/bad.md, cell 2")
    assert "ValueError: no such column: AGE" in str(err.value)


RUNNER = """
import sys
from pathlib import Path
from ixathaldex.site import execute as ex
from ixathaldex.site.zygote import Zygote
tmp = Path(sys.argv[1])
job = ex.NotebookJob(version="v", label="chapters/sleep.md", source=tmp / "sleep.md", parameters={{"snapshot": "x"}},
                     key="k", output=tmp / "out.ipynb", cwd=tmp)
with Zygote() as zygote:
    print(zygote.address, zygote.pid, flush=True)
    ex.run_jobs([job], {jobs}, None, zygote)
"""


def gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "killed", "failed"])
def test_no_process_is_left_behind(tmp_path, how):
    """Ctrl-C (SIGINT to the build's process group), the build killed, or a failing notebook: the
    zygote and every kernel it forked end with the build."""
    cells = ['open("kernel.pid", "w").write(str(__import__("os").getpid()))']
    cells.append("raise RuntimeError('stop')" if how == "failed" else "import time; time.sleep(120)")
    myst(tmp_path / "sleep.md", *cells, parameters='snapshot = ""')
    script = tmp_path / "runner.py"
    script.write_text(RUNNER.format(jobs=1 if how != "killed" else 2))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    zygote_pid = int(proc.stdout.readline().split()[1])
    deadline = time.monotonic() + 120
    while not (tmp_path / "kernel.pid").is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(0.3)
    kernel_pid = int((tmp_path / "kernel.pid").read_text())
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    elif how == "killed":
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(60)
    assert gone(zygote_pid), "the zygote outlived the build"
    assert gone(kernel_pid), "a kernel outlived the build"


def test_the_build_stops_its_zygote_when_a_step_fails(monkeypatch, tmp_path):
    from ixathaldex.site import build as b

    closed = []
    monkeypatch.setattr(b.Zygote, "close", lambda self, timeout=10.0: closed.append(self))
    monkeypatch.delenv(zg.ENV_VAR, raising=False)

    def fail(self):
        raise BuildError("a step failed")

    monkeypatch.setattr(b.Build, "run_steps", fail)
    build = b.Build(project=None, selected=[])
    with pytest.raises(BuildError):
        build.run()
    assert len(closed) == 1 and build.zygote is None


HELD = """
from ixathaldex.data import snapshot as sn
before = len(sn.HELD)
snap = sn.load_snapshot(snapshot, root=root, validate=False)
print("held", before, "left", len(sn.HELD), "patients", len(snap.adsl))
"""


@pytest.mark.slow
def test_every_kernel_forked_after_a_hold_takes_the_held_snapshot(tmp_path):
    """The fork server loads a cut once (``hold``); each kernel forked afterwards finds it in its own
    copy of the memory and takes it instead of reading the cut again."""
    from snapshot_factory import write_valid_snapshot

    root = tmp_path / "snapshots"
    write_valid_snapshot(root, "2019-01-31")
    source = myst(tmp_path / "held.md", HELD, parameters='snapshot = ""\nroot = ""')
    jobs = [job(tmp_path, source, snapshot="2019-01-31", root=str(root), n=i) for i in range(3)]
    with zg.Zygote() as zygote:
        assert zg.hold(zygote.address, "snapshots", [["2019-01-31", "1999-01-31"], str(root)]) == ["2019-01-31"]
        ex.run_jobs(jobs[:2], 1, None, zygote)
        assert zg.hold(zygote.address, "snapshots", [], release=True) == ["2019-01-31"]
        ex.run_jobs(jobs[2:], 1, None, zygote)  # forked after the release: reads the cut itself
        with pytest.raises(OSError, match="not something the fork server holds"):
            zg.hold(zygote.address, "anything", [])
    printed = ["".join("".join(o.get("text", "")) for cell in outputs(j.output) for o in cell).strip() for j in jobs]
    assert printed == ["held 1 left 0 patients 8"] * 2 + ["held 0 left 0 patients 8"]


@pytest.mark.slow
def test_notebooks_run_in_threads_each_in_its_own_folder(tmp_path):
    """With forked kernels papermill runs in threads of the build's process (execute.Workers): it must
    not change that process's folder, and each kernel still starts in its notebook's folder."""
    jobs = []
    for name in ("a", "b", "c"):
        folder = tmp_path / name
        folder.mkdir()
        source = myst(folder / f"{name}.md", "import os\nprint(os.path.basename(os.getcwd()))")
        jobs.append(ex.NotebookJob(version="2019-12-31", label=f"chapters/{name}.md", source=source,
                                   parameters={"snapshot": name}, key=name, output=tmp_path / "cache" / f"{name}.ipynb",
                                   cwd=folder))
    here = os.getcwd()
    workers = ex.Workers(2, threads=True)
    try:
        with zg.Zygote() as zygote:
            ex.run_jobs(jobs, 2, None, zygote, workers)
    finally:
        workers.close()
    assert os.getcwd() == here and workers.threads
    for j in jobs:
        printed = [o for cell in outputs(j.output) for o in cell if o.get("name") == "stdout"]
        assert "".join(printed[-1]["text"]).strip() == j.cwd.name


def test_the_zygote_stops_when_the_last_expected_user_is_done():
    """The build expects one Sphinx build per version; the fork server (and the memory it holds) goes
    when the last of them is done, before the PDFs are printed."""
    zygote = zg.Zygote()
    try:
        zygote.start()
        pid = zygote.pid
        zygote.expect(2)
        zygote.done()
        assert zygote.pid == pid and psutil.pid_exists(pid)
        zygote.done()
        assert zygote.pid is None and gone(pid)
    finally:
        zygote.close()
