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
from ixathaldex.analysis.cox import derive_complete_cases
from ixathaldex.analysis.populations import derive_adsl
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


def sponsor_flags(adsl: pd.DataFrame) -> pd.DataFrame:
    """The sponsor's own flags: SPHRFL (high risk, as the paper counts it) and COXFL (the complete
    cases of the multivariate OS model), taken from the publication cut's derivations."""
    d = derive_adsl(coerce_types("adsl", adsl))
    return pd.DataFrame({"SPHRFL": d["HRCYTOFL"].fillna(""),
                         "COXFL": derive_complete_cases(d).map({True: "Y", False: "N"})}, index=adsl.index)


def reread_t1416(adsl: pd.DataFrame) -> pd.DataFrame:
    """Another laboratory reading of t(14;16): the one positive patient (who also carries another
    high-risk aberration) moves to a FISH patient without any, so the counts of each aberration
    stay as published but "any of the three" gives one patient more than the paper's high-risk
    group; only the sponsor's own flag SPHRFL then gives the paper's number."""
    a = adsl.copy()
    fish = a["FISHFL"] == "Y"
    was = a.index[fish & (a["T1416"] == "Y")]
    clean = a.index[fish & (a[["T414", "T1416", "DEL17P"]] == "N").all(axis=1)]
    assert len(was) == 1 and ((a.loc[was, ["T414", "DEL17P"]] == "Y").any(axis=1)).all()
    a.loc[was, "T1416"], a.loc[clean[0], "T1416"] = "N", "Y"
    return a


def make_transfer(folder: Path, groups: dict, other_t1416: bool = False) -> Path:
    """The sponsor's transfer of the publication cut (written into ``folder``), with the sponsor's
    flags SPHRFL and COXFL; ``other_t1416``: with another reading of t(14;16) (:func:`reread_t1416`)."""
    folder.mkdir(parents=True)
    t = {n: _read(PUBLICATION, n) for n in ("adsl", "adtte", "adrs", "adae")}
    t["adsl"] = pd.concat([t["adsl"], sponsor_flags(t["adsl"])], axis=1)
    if other_t1416:
        t["adsl"] = reread_t1416(t["adsl"])
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
    assert man["definitions"]["sha256"] == sha256_file(dest / "definitions.yaml") \
        == man["files"]["definitions.yaml"]["sha256"]
    assert "SPHRFL" in (dest / "definitions.yaml").read_text()
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
    assert "hr_cyto <- the study's flag SPHRFL (Y = high risk)" in out
    assert "cox_complete <- the study's condition COXFL == Y" in out
    assert "nothing was written" in out


def test_a_mapping_for_another_study_is_refused(transfer, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(EXAMPLE.read_text(encoding="utf-8").replace("study: MM-204", "study: XY-999"))
    with pytest.raises(Exception, match=r"other.yaml line \d+: adsl \(adsl.xpt\), column STUDYID"):
        add_snapshot(transfer, CUT, "x", root=tmp_path / "real", mapping=other)
    assert not (tmp_path / "real").exists()


@pytest.mark.parametrize("entry, message", [
    ("hr_cytogenetics: {flag: SPHRFL}", "unknown definition"),
    ("cyto3: {flag: SPHRFL}", "follows from hr_cyto, gain1q_detected"),
    ("hr_cyto: {flag: NOSUCH}", "column NOSUCH is not in ADSL"),
    ("hr_cyto: {flag: SEX}", "flag SEX must hold Y, N or nothing"),
    ("hr_cyto: {flag: SPHRFL, condition: 'COXFL == Y'}", "exactly one of flag"),
])
def test_a_wrong_definition_is_refused_naming_the_mapping_line(transfer, tmp_path, entry, message):
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("definitions:\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text[:start] + "definitions:\n  " + entry + "\n", encoding="utf-8")
    line = text[:start].count("\n") + 2
    with pytest.raises(Exception, match=rf"bad.yaml line {line}: adsl \(adsl.xpt\), definitions: .*{message}"):
        add_snapshot(transfer, CUT, "x", root=tmp_path / "real", mapping=bad)
    assert not (tmp_path / "real").exists()
