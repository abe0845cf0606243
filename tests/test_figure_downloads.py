"""Figure downloads: the build writes each panel's files (emitted by a chapter, glued or shown)
into ``chapters/figures/`` and strips them from the staged notebook; unsafe names are refused."""

import base64
import json

import pytest

from ixathaldex.exceptions import BuildError
from ixathaldex.report.figure_files import FILES_MIME
from ixathaldex.site import stage

GLUE_PREFIX = "application/papermill.record/"  # how myst-nb's glue(..., display=False) stores a bundle


def notebook(tmp_path, files, prefix=GLUE_PREFIX, folder="figures"):
    payload = {"folder": folder, "files": {k: base64.b64encode(v).decode() for k, v in files.items()}}
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "fig"}},
         "data": {prefix + "text/html": "<div>panels</div>", prefix + FILES_MIME: payload}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "03_survival.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_figure_files_reach_the_chapters_figures_folder(tmp_path):
    files = {"figure-3e.svg": b"<svg/>", "figure-3e.png": b"\x89PNG\r\n", "figure-3e.csv": b"a,b\n1,2\n"}
    nb = notebook(tmp_path, files)
    html_dir = tmp_path / "html"
    stage.write_downloads(html_dir, {"chapters/03_survival": nb}, [])
    written = {p.name: p.read_bytes() for p in (html_dir / "chapters" / "figures").iterdir()}
    assert written == files
    staged = stage.without_table_downloads(nb)
    data = staged["cells"][0]["outputs"][0]["data"]
    assert list(data) == [GLUE_PREFIX + "text/html"]  # the HTML stays, the files go


@pytest.mark.parametrize("name, folder", [("../evil.svg", "figures"), ("figure.exe", "figures"),
                                          ("figure-3e.svg", "../tables")])
def test_unsafe_figure_file_names_are_refused(tmp_path, name, folder):
    nb = notebook(tmp_path, {name: b"x"}, prefix="", folder=folder)
    with pytest.raises(BuildError, match="safe name"):
        stage.figure_downloads(nb)
