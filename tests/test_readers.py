"""Datasets as they arrive: SAS transport, Dataset-JSON (JSON and NDJSON), CSV with BOM and CRLF."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from ixathaldex.data.readers import find_source, read_source
from ixathaldex.exceptions import SnapshotError
from ixathaldex.files import sha256_file


def test_sas_transport_dates_become_iso_and_numbers_plain_text(tmp_path):
    df = pd.DataFrame({"USUBJID": ["S-1", "S-2"], "TRTSDT": [dt.date(2016, 1, 19), None],
                       "RAWDT": [20472.0, np.nan], "AGE": [67.3, 81.6], "ECOG": [1.0, 0.0],
                       "DCSREAS": ["ADVERSE EVENT", ""]})
    path = tmp_path / "adsl.xpt"
    pyreadstat.write_xport(df, str(path), file_format_version=5, table_name="ADSL",
                           variable_format={"TRTSDT": "DATE9"})
    src = read_source(path)
    assert src.format == "sas-xport" and src.name == "adsl.xpt" and src.sha256 == sha256_file(path)
    assert src.dates == ("TRTSDT",)
    assert src.data["TRTSDT"].tolist() == ["2016-01-19", None]
    assert src.data["RAWDT"].tolist() == ["20472", None]  # no date format: days since 1960 stay a number
    assert src.data["AGE"].tolist() == ["67.3", "81.6"] and src.data["ECOG"].tolist() == ["1", "0"]
    assert src.data["DCSREAS"].tolist() == ["ADVERSE EVENT", None]


def _meta(columns):
    return {"datasetJSONVersion": "1.1.0", "itemGroupOID": "IG.ADAE", "name": "ADAE", "records": 2,
            "columns": [{"itemOID": f"IT.{c}", "name": c, "label": c, "dataType": t, **extra}
                        for c, t, extra in columns]}


COLUMNS = [("USUBJID", "string", {}), ("AESEQ", "integer", {}), ("ASTDT", "date", {}),
           ("ADTN", "date", {"targetDataType": "integer"}), ("ADTM", "datetime", {})]
ROWS = [["S-1", 1, "2016-02-01", 20485,  # 20485 days after 1960-01-01 = 2016-02-01
          "2016-02-01T10:30:00"], ["S-2", 2, None, None, None]]


@pytest.mark.parametrize("ndjson", [False, True], ids=["json", "ndjson"])
def test_dataset_json_and_ndjson(tmp_path, ndjson):
    meta = _meta(COLUMNS)
    if ndjson:
        path = tmp_path / "adae.ndjson"
        path.write_text("\n".join(json.dumps(x) for x in [meta, *ROWS]) + "\n", encoding="utf-8")
    else:
        path = tmp_path / "adae.json"
        path.write_text(json.dumps({**meta, "rows": ROWS}), encoding="utf-8")
    src = read_source(path)
    assert src.format == ("dataset-ndjson" if ndjson else "dataset-json")
    assert list(src.data.columns) == ["USUBJID", "AESEQ", "ASTDT", "ADTN", "ADTM"]
    assert src.data.iloc[0].tolist() == ["S-1", "1", "2016-02-01", "2016-02-01", "2016-02-01"]
    assert src.data.iloc[1].tolist() == ["S-2", "2", None, None, None]


def test_dataset_json_row_of_the_wrong_width_is_named(tmp_path):
    path = tmp_path / "adae.json"
    path.write_text(json.dumps({**_meta(COLUMNS), "rows": [ROWS[0], ["S-2", 2]]}), encoding="utf-8")
    with pytest.raises(SnapshotError, match="adae.json: row 2 is not a list of 5 values"):
        read_source(path)


def test_csv_with_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "adsl.csv"
    path.write_bytes("\ufeffSTUDYID,USUBJID,SEX\r\nX,Ä-1,M\r\nX,Ä-2,\r\n".encode("utf-8"))
    src = read_source(path)
    assert list(src.data.columns) == ["STUDYID", "USUBJID", "SEX"]
    assert src.data["USUBJID"].tolist() == ["Ä-1", "Ä-2"] and src.data["SEX"].tolist() == ["M", None]


def test_not_utf8_and_unknown_format_are_named(tmp_path):
    (tmp_path / "adsl.csv").write_bytes(b"A,B\n\xe9,1\n")
    with pytest.raises(SnapshotError, match="adsl.csv: byte at offset 4 is not UTF-8"):
        read_source(tmp_path / "adsl.csv")
    (tmp_path / "adsl.sas7bdat").write_bytes(b"x")
    with pytest.raises(SnapshotError, match="unknown dataset format"):
        read_source(tmp_path / "adsl.sas7bdat")


def test_find_source_one_file_per_dataset(tmp_path):
    assert find_source(tmp_path, "adsl") is None
    (tmp_path / "ADSL.XPT").write_bytes(b"")
    assert find_source(tmp_path, "adsl").name == "ADSL.XPT"
    (tmp_path / "adsl.csv").write_text("A\n1\n")
    with pytest.raises(SnapshotError, match="several files for adsl"):
        find_source(tmp_path, "adsl")
