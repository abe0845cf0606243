"""End to end: a sponsor's transfer of the publication cut, added with a study mapping in a fresh
project folder and built, reproduces every claim of the publication cut and publishes nothing it
must not (the word "synthetic", a subject id, a path of this machine).

The transfer (tests/test_transfer.py, ``make_transfer``) has other names and codes, another study id
and subject-id format, SAS transport files with SAS dates, extra columns and an extra ADTTE
parameter (TTP), and another laboratory reading of t(14;16) under which the default high-risk rule
counts one patient more than the paper; the sponsor's own high-risk flag and complete-case flag,
pointed at by the mapping's ``definitions:`` section, give back the paper's groups. One version is
built (a few minutes on a busy machine).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ixathaldex.analysis.populations import table_characteristics
from ixathaldex.claims import values, values_survival
from ixathaldex.data.definitions import COLUMN_PREFIX
from ixathaldex.data.snapshot import load_snapshot
from ixathaldex.site.bench import copy_project
from ixathaldex.site.leaks import find_local_paths, local_paths, published_texts
from test_transfer import CUT, EXAMPLE, PUBLICATION, make_transfer

REPO = Path(__file__).resolve().parents[1]
CLAIM_VALUES = (values.derive_claim_values_patients, values.derive_claim_values_response,
                values.derive_claim_values_safety, values_survival.derive_claim_values_survival,
                values_survival.derive_claim_values_prognostic)


def publication_values() -> dict:
    """Every claim's value computed by the library on the committed publication cut, as glued."""
    snap = load_snapshot(CUT, root=PUBLICATION.parent)
    out = {}
    for derive in CLAIM_VALUES:
        out.update({k: values.glued_form(v) for k, v in derive(snap).items()})
    return out


def same(a, b) -> bool:
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)]
    if any(missing) or isinstance(a, str) or isinstance(b, str):
        return all(missing) or a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def high_risk_count(snap) -> int:
    rows = table_characteristics(snap.adsl).set_index("item")
    return int(rows.loc["High risk (any of t(4;14), t(14;16), del(17p))", "n"])


@pytest.mark.slow
def test_a_mapped_transfer_builds_the_publication_cut_and_leaks_nothing(tmp_path):
    groups = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["datasets"]["adae"]["terms"]
    transfer = make_transfer(tmp_path / "sponsor" / "transfer", groups, other_t1416=True)
    proj = copy_project(tmp_path / "project", REPO, snapshots=[])
    env = {k: v for k, v in os.environ.items() if k != "IXATHALDEX_PROJECT"}

    def ixathaldex(*args):
        proc = subprocess.run([sys.executable, "-m", "ixathaldex.cli", *args], cwd=proj, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    ixathaldex("snapshot", "add", str(transfer), "--map", str(EXAMPLE), "--cut", CUT,
               "--label", "Sponsor transfer MM-204")
    snap = load_snapshot(CUT, root=proj / "data" / "snapshots")
    assert not snap.synthetic and set(snap.definitions) == {"hr_cyto", "cox_complete"}
    # the sponsor's flag matters: the default rule would count one high-risk patient more
    assert high_risk_count(snap) == high_risk_count(load_snapshot(CUT, root=PUBLICATION.parent))
    snap.adsl = snap.adsl.drop(columns=[c for c in snap.adsl.columns if c.startswith(COLUMN_PREFIX)])
    assert high_risk_count(snap) == high_risk_count(load_snapshot(CUT, root=PUBLICATION.parent)) + 1

    ixathaldex("-q", "build", "--jobs", "2")

    claims = json.loads((proj / "_build" / "runs" / CUT / "claims.json").read_text(encoding="utf-8"))
    want = publication_values()
    differ = [(c["id"], c["reproduced"], want.get(c["id"])) for c in claims
              if not same(c["reproduced"], want.get(c["id"]))]
    assert {c["id"] for c in claims} >= set(want) and not differ, differ  # missing = not computable in both

    site = proj / "_build" / "site"
    pages = {rel: text for rel, text in published_texts(site / CUT) if rel.endswith((".html", ".ipynb"))}
    assert pages and not [rel for rel, text in pages.items() if "synthetic" in text.lower()]
    methods = pages["methods.html"]
    assert "SPHRFL" in methods and "COXFL" in methods  # the definitions in force
    assert "PFSINV" in methods and "No mapping" not in methods  # the mapping in force

    adsl = (proj / "data" / "snapshots" / CUT / "adsl.csv").read_text(encoding="utf-8").splitlines()
    header = adsl[0].split(",")
    ids = {row.split(",")[header.index("USUBJID")] for row in adsl[1:]}
    assert all(i.startswith("204.") for i in ids)
    texts = list(published_texts(site))
    assert not [f"{rel}: {i}" for rel, text in texts for i in ids if i in text]
    assert not find_local_paths(site, local_paths(tmp_path, proj, transfer, REPO))
