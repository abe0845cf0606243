"""Display tables: captions, footnotes, cell formatting rules and CSV export."""

import numpy as np
import pandas as pd

from ixathaldex.analysis.populations import table_characteristics, table_flow
from ixathaldex.analysis.response import table_response, table_response_by_group, table_upgrade_summary
from ixathaldex.analysis.safety import table_adverse_events
from ixathaldex.analysis.cox import invert_hr, table_cox_univariate
from ixathaldex.analysis.survival import derive_tte, table_followup, table_km_summary, table_subgroup_survival
from ixathaldex.report.tables import (DisplayTable, fmt_hr, fmt_median_ci, fmt_n_pct, format_adverse_events,
                                      format_characteristics, format_cox, format_cox_directions, format_flow,
                                      format_followup, format_km_summary, format_response,
                                      format_response_by_group, format_subgroup_survival, format_upgrades, to_csv)

import reference_data as ref


def test_cell_rules():
    assert fmt_median_ci(8.46, 6.4, np.nan) == "8.5 (6.4–NC)"
    assert fmt_median_ci(np.nan, 22.9, np.nan) == "NR (22.9–NC)"
    assert fmt_n_pct(8, 8.888) == "8 (8.9)" and fmt_n_pct(0, np.nan) == "0 (–)"
    assert fmt_hr(0.07, 0.01, 0.59) == "0.07 (0.01–0.59)"
    assert fmt_hr(np.inf, 0, np.inf, estimable=False) == "not estimable"


def test_table_2a_display_and_csv(tmp_path):
    adsl, _, adrs, _ = ref.toy_frames()
    d = format_response(table_response(adsl, adrs))
    assert isinstance(d, DisplayTable)
    assert list(d.frame["Response"]) == ["CR", "VGPR", "PR", "MR", "ORR", "CBR"]
    assert d.frame.loc[4, "ITT (n = 8), n (%)"] == "4 (50.0)"
    assert d.frame.loc[4, "PP (n = 6), n (%)"] == "4 (66.7)"
    html = d._repr_html_()
    assert "<table" in html and "Table 2A" in html and "clinical benefit rate" in html
    p = d.to_csv(tmp_path / "t2a.csv")
    back = pd.read_csv(p)
    assert back.shape == d.frame.shape
    num = pd.read_csv(d.to_csv(tmp_path / "t2a_num.csv", numeric=True))
    assert "ci_lower" in num.columns


def test_every_formatter_runs_on_toy(tmp_path):
    adsl, adtte, adrs, adae = ref.toy_frames()
    tte = derive_tte(adsl, adtte, "PFS")
    tables = [
        format_characteristics(table_characteristics(adsl)),
        format_response_by_group(table_response_by_group(adsl, adrs)),
        format_upgrades(table_upgrade_summary(adsl, adrs)),
        format_km_summary(table_km_summary(tte, "gain1q"), "Figure 3b. PFS by gain of 1q21", "PFS"),
        format_subgroup_survival(table_subgroup_survival(adsl, adtte, "OS"), "OS subgroups"),
        format_cox(table_cox_univariate(adsl, adtte, "OS"), "Univariate Cox, OS"),
        format_adverse_events(table_adverse_events(adsl, adae)),
        format_followup(table_followup(adsl, adtte)),
        format_flow(table_flow(adsl)),
    ]
    for t in tables:
        assert t.caption and t.footnote
        assert "<table" in t.to_html()
        to_csv(t.frame, tmp_path / "x.csv")


def test_table1_and_table3_cells():
    adsl, _, _, adae = ref.toy_frames()
    t1 = format_characteristics(table_characteristics(adsl)).frame.set_index("Category")
    assert t1.loc["Gain of 1q21", "Value"] == "3/6 (50.0)"
    assert t1.loc["Age", "Value"] == "67.5 (50–80)"
    t3 = format_adverse_events(table_adverse_events(adsl, adae)).frame.set_index(("", "Adverse event"))
    assert t3.loc["Anaemia", ("Induction + maintenance (n = 8)", "Grade ≥3")] == "1 (12.5)"
    assert t3.loc["Fatigue", ("Maintenance only (n = 2)", "Grade ≥3")] == "1 (50.0)"


def test_km_summary_display_reports_nr():
    tte = pd.DataFrame({"time": [1, 2, 3, 4], "event": [1, 0, 0, 0]})
    d = format_km_summary(table_km_summary(tte), "x", "OS")
    assert d.frame.loc[0, "Median, months (95% CI)"].startswith("NR")
    assert "not reached" in d.footnote


def test_mimebundle_has_html_with_csv_link_and_csv_with_filename():
    adsl, _, adrs, _ = ref.toy_frames()
    d = format_response(table_response(adsl, adrs))
    data, meta = d._repr_mimebundle_()
    assert d.name == "table-2a"
    assert set(data) == {"text/html", "text/csv"}
    assert 'href="tables/table-2a.csv"' in data["text/html"] and "download" in data["text/html"]
    assert "<table" in data["text/html"]
    assert meta == {"text/csv": {"filename": "table-2a.csv"}}
    import io
    back = pd.read_csv(io.StringIO(data["text/csv"]), dtype=str, keep_default_na=False)
    assert back.shape == d.frame.shape
    assert list(back.columns) == list(d.frame.columns)
    assert back.iloc[4, 1] == "4 (50.0)"


def test_display_table_names_default_to_caption_slug_and_can_be_set():
    t = DisplayTable(pd.DataFrame({"a": ["1"]}), "Figure 3b. PFS by gain of 1q21")
    assert t.name == "figure-3b-pfs-by-gain-of-1q21"
    assert t.named("Table S1").csv_filename == "table-s1.csv"
    d = format_km_summary(pd.DataFrame({"label": ["All"], "n": [4], "events": [1], "median": [np.nan],
                                        "ci_lower": [np.nan], "ci_upper": [np.nan]}), "x", "OS",
                          name="table-pfs-summary")
    assert d._repr_mimebundle_()[1]["text/csv"]["filename"] == "table-pfs-summary.csv"


def test_response_by_group_shows_the_2x2_counts():
    adsl, _, adrs, _ = ref.toy_frames()
    t = table_response_by_group(adsl, adrs)
    d = format_response_by_group(t, counts=True).frame
    for (_, r), (_, row) in zip(t.iterrows(), d.iterrows()):
        assert int(row["Responders"]) + int(row["Non-responders"]) == r["N"]
        assert int(row["Responders"]) == r["n"]
    assert "Responders" not in format_response_by_group(t).frame
    assert "frame" not in repr(format_response_by_group(t))


def test_software_versions_read_the_lock(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==1.2.3\nmyst_nb==9.9.9 ; python_version>'3'\n# comment\n")
    from ixathaldex.report.tables import format_software_versions, table_software_versions
    t = table_software_versions(packages=(("numpy", "arrays"), ("myst-nb", "glue"), ("nonexistent-pkg-x", "-")),
                                lock_path=lock).set_index("package")
    assert t.loc["numpy", "locked"] == "1.2.3" and t.loc["myst-nb", "locked"] == "9.9.9"
    import numpy
    assert t.loc["numpy", "installed"] == numpy.__version__
    assert t.loc["nonexistent-pkg-x", "installed"] == "" and t.loc["Python", "installed"]
    assert "<table" in format_software_versions(t.reset_index()).to_html()


def test_cox_directions_read_each_hr_in_words():
    adsl, adtte, _, _ = ref.toy_frames()
    u = table_cox_univariate(adsl, adtte, "OS", factors=["hgb100"])
    both = pd.concat([u, invert_hr(u)], ignore_index=True)
    d = format_cox_directions(both, "Cox, both ways", name="cox-both")
    assert "Factor" not in d.frame.columns and d.name == "cox-both"
    words = list(d.frame["Reading"])
    hr = float(u["hr"].iloc[0])
    first, second = ("higher", "lower") if hr > 1 else ("lower", "higher")
    assert words[0] == f"{first} hazard of death with Hb <100 g/L than with Hb ≥100 g/L"
    assert words[1] == f"{second} hazard of death with Hb ≥100 g/L than with Hb <100 g/L"
