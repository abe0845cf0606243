"""A sponsor-style ADaM transfer made from the publication cut becomes the same snapshot again.

The transfer is built here, independently of the code under test: other column names, other
codes, another study id and subject-id format, SAS transport files with SAS dates (and one date
without a format), Dataset-JSON and NDJSON, MedDRA preferred terms instead of Table 3 rows, extra
columns and an extra PARAMCD (TTP). Adding it with the documented example mapping
(docs/examples/study-mapping.yaml) must give back the publication cut's four tables.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from ixathaldex import cli
from ixathaldex.data.manifest import read_manifest
from ixathaldex.data.schema import SCHEMA, coerce_types
from ixathaldex.data.snapshot import add_snapshot
from ixathaldex.files import sha256_file

REPO = Path(__file__).resolve().parents[1]
PUBLICATION = REPO / "data" / "snapshots" / "2018-06-30"
EXAMPLE = REPO / "docs" / "examples" / "study-mapping.yaml"
CUT = "2018-06-30"
SAS_EPOCH = dt.date(1960, 1, 1)


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])


def _new_id(old: str) -> str:  # IXATHALDEX-01-007 -> 204.01.0007
    _, site, n = old.split("-")
    return f"204.{site}.{int(n):04d}"


def _sas_days(iso) -> float:
    return float("nan") if pd.isna(iso) else float((dt.date.fromisoformat(iso) - SAS_EPOCH).days)


def _dates(df: pd.DataFrame, cols) -> pd.DataFrame:
    for c in cols:
        df[c] = [None if pd.isna(v) else dt.date.fromisoformat(v) for v in df[c]]
    return df


def _numbers(df: pd.DataFrame, cols) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_numeric(df[c])
    return df


def _sponsor_adsl(a: pd.DataFrame) -> pd.DataFrame:
    a = a.copy()
    a["SEX"] = a["SEX"].map({"M": "MALE", "F": "FEMALE"})
    a["ISS"] = "STAGE " + a["ISS"]
    a["MMTYPE"] = a["MMTYPE"].str.upper()
    a["DCSREAS"] = a["DCSREAS"].replace({"PROGRESSIVE DISEASE": "DISEASE PROGRESSION"})
    days = (pd.to_datetime(a["TRTSDT"]) - pd.to_datetime(a["FLTSTDT"])).dt.days
    a["FLTMON"] = days / 30.4375
    a["NASCT"] = a["ASCTFL"].map({"Y": 1.0, "N": 0.0})
    a["MNTSDT"] = a["MNTSDT"].map(_sas_days)  # a date without a SAS format: days since 1960
    a = a.drop(columns=["FLTSTDT", "ASCTFL", "ITTFL"])
    a = a.rename(columns={"ISS": "ISSSTG", "ECOG": "ECOGBL", "MMTYPE": "MMTYP", "HGB": "HGBBL",
                          "ALB": "ALBBL", "GFR": "EGFRBL", "INDCYC": "INDCYCN", "MNTCYC": "MNTCYCN",
                          "EOTSTT": "EOTSTAT"})
    a["SITEID"], a["RACE"] = a["USUBJID"].str.split(".").str[1], "WHITE"
    _numbers(a, ["AGE", "ECOGBL", "PRLINES", "HGBBL", "ALBBL", "EGFRBL", "INDCYCN", "MNTCYCN"])
    return _dates(a, ["TRTSDT", "TRTEDT"])


def _sponsor_adtte(t: pd.DataFrame) -> pd.DataFrame:
    t = t.copy()
    ttp = t[t["PARAMCD"] == "PFS"].assign(PARAMCD="TTP", PARAM="Time to progression")
    t = pd.concat([t, ttp], ignore_index=True)
    t["PARAM"] = t["PARAMCD"].map({"PFS": "PFS (investigator)", "OS": "Overall Survival",
                                   "TTP": "Time to progression"})
    t["PARAMCD"] = t["PARAMCD"].replace({"PFS": "PFSINV"})
    t["EVNTDESC"] = t["EVNTDESC"].replace({"PROGRESSIVE DISEASE": "DISEASE PROGRESSION"})
    t["SRCDOM"] = "ADRS"
    _numbers(t, ["AVAL", "CNSR"])
    return _dates(t, ["STARTDT", "ADT"])


def _write_xpt(df: pd.DataFrame, path: Path, dates) -> None:
    pyreadstat.write_xport(df, str(path), file_format_version=5, table_name=path.stem.upper(),
                           variable_format={c: "DATE9" for c in dates})


def _write_dataset_json(df: pd.DataFrame, path: Path, types: dict, ndjson: bool) -> None:
    columns = [{"itemOID": f"IT.{path.stem.upper()}.{c}", "name": c, "label": c,
                **({"dataType": types[c][0], "targetDataType": types[c][1]} if isinstance(types.get(c), tuple)
                   else {"dataType": types.get(c, "string")})} for c in df.columns]
    rows = [[None if pd.isna(v) else v for v in r] for r in df.astype(object).itertuples(index=False)]
    meta = {"datasetJSONVersion": "1.1.0", "fileOID": f"F.{path.stem}", "itemGroupOID": f"IG.{path.stem}",
            "name": path.stem.upper(), "label": path.stem, "records": len(rows), "columns": columns}
    if ndjson:
        path.write_text("\n".join(json.dumps(x) for x in [meta, *rows]) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps({**meta, "rows": rows}), encoding="utf-8")


def _pts(groups: dict, adae: pd.DataFrame) -> list[str]:
    """A preferred term for each AE row: the group's terms in turn (so every group is split)."""
    seen: dict = {}
    out = []
    for term in adae["AEDECOD"]:
        k = seen.get(term, 0)
        out.append(groups[term][k % len(groups[term])])
        seen[term] = k + 1
    return out


def make_transfer(folder: Path, groups: dict) -> Path:
    """The sponsor's transfer of the publication cut (written into ``folder``)."""
    folder.mkdir(parents=True)
    t = {n: _read(PUBLICATION, n) for n in ("adsl", "adtte", "adrs", "adae")}
    for df in t.values():
        df["USUBJID"] = df["USUBJID"].map(_new_id)
        df["STUDYID"] = "MM-204"
    _write_xpt(_sponsor_adsl(t["adsl"]), folder / "adsl.xpt", ["TRTSDT", "TRTEDT"])
    _write_xpt(_sponsor_adtte(t["adtte"]), folder / "adtte.xpt", ["STARTDT", "ADT"])
    rs = t["adrs"].assign(PARAMCD=t["adrs"]["PARAMCD"].replace({"EOIRESP": "EOIBOR"}))
    _write_dataset_json(rs, folder / "adrs.json", {"ADT": "date"}, ndjson=False)
    ae = t["adae"].drop(columns=["AECAT"]).rename(columns={"APHASE": "APERIODC"})
    ae["APERIODC"] = ae["APERIODC"].str.capitalize()
    ae["AEDECOD"] = _pts(groups, t["adae"])
    ae["ASTDT"] = [int(_sas_days(v)) for v in ae["ASTDT"]]
    ae = _numbers(ae, ["AESEQ", "AETOXGR"]).astype({"AESEQ": int, "AETOXGR": int})
    _write_dataset_json(ae, folder / "adae.ndjson", {"ASTDT": ("date", "integer"), "AESEQ": "integer",
                                                     "AETOXGR": "integer"}, ndjson=True)
    return folder


@pytest.fixture(scope="module")
def transfer(tmp_path_factory) -> Path:
    import yaml
    groups = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["datasets"]["adae"]["terms"]
    return make_transfer(tmp_path_factory.mktemp("sponsor") / "transfer", groups)


def test_the_sponsor_transfer_is_not_canonical(transfer):
    """Guard: the test data really differ from the snapshot (else the round trip proves nothing)."""
    xpt, _ = pyreadstat.read_xport(str(transfer / "adsl.xpt"))
    assert {"SEX", "ISSSTG", "FLTMON", "NASCT"} <= set(xpt.columns) and "FLTSTDT" not in xpt.columns
    assert set(xpt["SEX"]) == {"MALE", "FEMALE"}
    assert "PFSINV" in set(pyreadstat.read_xport(str(transfer / "adtte.xpt"))[0]["PARAMCD"])


def test_the_transfer_added_with_the_example_mapping_is_the_publication_cut(transfer, tmp_path, capsys):
    root = tmp_path / "real"
    code = cli.main(["snapshot", "add", str(transfer), "--map", str(EXAMPLE), "--cut", CUT,
                     "--label", "Sponsor transfer", "--root", str(root)])
    out = capsys.readouterr().out
    assert code == 0, out
    dest = root / CUT
    for name in ("adsl", "adtte", "adrs", "adae"):
        got, want = _read(dest, name), _read(PUBLICATION, name)
        if name == "adtte":
            assert sorted(set(got["PARAMCD"])) == ["OS", "PFS", "TTP"]  # TTP kept as delivered
            got = got[got["PARAMCD"] != "TTP"].reset_index(drop=True)
        assert set(got["STUDYID"]) == {"MM-204"}
        assert list(got["USUBJID"]) == [_new_id(u) for u in want["USUBJID"]]
        cols = [c.name for c in SCHEMA[name] if c.name not in ("STUDYID", "USUBJID")]
        pd.testing.assert_frame_equal(coerce_types(name, got[cols]), coerce_types(name, want[cols]),
                                      check_dtype=False, obj=name)
    man = read_manifest(dest)
    assert man["synthetic"] is False
    assert set(man["sources"]) == {"adsl.xpt", "adtte.xpt", "adrs.json", "adae.ndjson"}
    assert man["sources"]["adsl.xpt"] == {"dataset": "adsl", "format": "sas-xport",
                                         "sha256": sha256_file(transfer / "adsl.xpt")}
    assert man["mapping"]["sha256"] == sha256_file(EXAMPLE) == sha256_file(dest / "mapping.yaml")
    assert str(tmp_path) not in (dest / "manifest.json").read_text()
    assert "[note: extra-column]" in out and "PARAMCD 'TTP'" in out


def test_the_dry_run_prints_the_mapping_and_writes_nothing(transfer, tmp_path, capsys):
    root = tmp_path / "real"
    before = sorted(p.name for p in transfer.iterdir())
    code = cli.main(["snapshot", "add", str(transfer), "--map", str(EXAMPLE), "--cut", CUT,
                     "--label", "x", "--root", str(root), "--check"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert not root.exists() and sorted(p.name for p in transfer.iterdir()) == before
    assert "adsl.csv <- adsl.xpt (sas-xport, 90 rows" in out
    assert "ISSSTG -> ISS" in out and "PFS <- PFSINV (90 rows)" in out
    assert "kept, not analysed: TTP (90)" in out
    assert "FLTMON" in out and "SITEID" in out  # extra columns, kept
    assert "nothing was written" in out


def test_a_mapping_for_another_study_is_refused(transfer, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(EXAMPLE.read_text(encoding="utf-8").replace("study: MM-204", "study: XY-999"))
    with pytest.raises(Exception, match=r"other.yaml line \d+: adsl \(adsl.xpt\), column STUDYID"):
        add_snapshot(transfer, CUT, "x", root=tmp_path / "real", mapping=other)
    assert not (tmp_path / "real").exists()
