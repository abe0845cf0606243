"""data.schema: reading a CSV (line checks on the bytes) and typing columns by distinct value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ixathaldex.data.schema import coerce_types, read_table, split_params
from ixathaldex.exceptions import ValidationError


def write(tmp_path, text: str):
    path = tmp_path / "adae.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_ragged_line_among_multibyte_text_is_named_by_its_line(tmp_path):
    path = write(tmp_path, "A,B\né,日本\nx\n€,ü\n")  # one field short: the parser alone accepts it
    df, problems = read_table(path)
    assert df is None
    assert [(p.rule, p.rows) for p in problems] == [("not-csv", (3,))]
    assert "1 line(s) do not have the header's 2 fields" in problems[0].message


def test_trailing_blank_lines_are_not_records(tmp_path):
    df, problems = read_table(write(tmp_path, "A,B\n1,2\n3,4\n \n\t\n\n"))
    assert problems == [] and df.to_dict("list") == {"A": ["1", "3"], "B": ["2", "4"]}


def test_a_blank_line_inside_is_refused_with_its_line(tmp_path):
    df, problems = read_table(write(tmp_path, "A,B\n1,2\n\n3,4\n"))
    assert df is None and [(p.rule, p.rows) for p in problems] == [("not-csv", (3,))]


def test_quoted_commas_are_one_field(tmp_path):
    df, problems = read_table(write(tmp_path, 'A,B\n"x, y",2\n"q""q",3\n'))
    assert problems == [] and list(df["A"]) == ["x, y", 'q"q']


def test_repeated_texts_are_typed_each_cell_the_same():
    raw = pd.DataFrame({"STUDYID": ["S"] * 5, "USUBJID": list("abcde"),
                        "AESEQ": ["1", "2", "1", "02", None],
                        "ASTDT": ["2016-01-05", "2016-01-05", None, "2016-01-05", "2016-02-01"]},
                       index=[10, 11, 12, 13, 14])
    typed = coerce_types("adae", raw)
    assert list(typed.index) == [10, 11, 12, 13, 14]
    assert str(typed["AESEQ"].dtype) == "Int64" and typed["AESEQ"].tolist() == [1, 2, 1, 2, pd.NA]
    assert typed["ASTDT"].dtype == "datetime64[ns]"
    assert typed["ASTDT"].tolist()[:2] == [pd.Timestamp("2016-01-05")] * 2 and pd.isna(typed["ASTDT"].iloc[2])


def test_a_bad_cell_among_repeats_is_reported_at_its_row():
    raw = pd.DataFrame({"ASTDT": ["2016-01-05", "2016-01-05", "2016-1-5", "2016-01-05"]})
    with pytest.raises(ValidationError) as err:
        coerce_types("adae", raw)
    problem = err.value.problems[0]
    assert (problem.rule, problem.column, problem.rows) == ("type-date", "ASTDT", (4,))
    assert np.isnat(coerce_types("adae", raw, errors="coerce")["ASTDT"].to_numpy()[2])


def test_split_params_without_other_rows_keeps_every_row():
    df = pd.DataFrame({"PARAMCD": ["PFS", "OS", None]}, index=[3, 4, 5])
    read, other = split_params("adtte", df)
    assert list(read.index) == [3, 4, 5] and other.empty
    read, other = split_params("adtte", df.assign(PARAMCD=["PFS", "TTP", None]))
    assert list(read.index) == [3, 5] and list(other.index) == [4]
