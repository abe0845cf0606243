"""Cite this version: the citation block of each version and the repository's CITATION.cff."""

from pathlib import Path

import pytest
import yaml

from ixathaldex.site.citation import bibtex_key, bibtex_text, derive_citation

ROOT = Path(__file__).resolve().parents[1]
PROV = {"snapshot": "2018-06-30", "cutoff_date": "2018-06-30", "commit": "abc1234", "code_date": "2026-11-30",
        "data": "synthetic", "url": "https://example.org/ixd/2018-06-30/"}


def test_plain_text_names_version_cutoff_commit_date_and_address():
    cite = derive_citation(PROV, "IxaThalDex: a living publication", "The authors")
    text = cite["text"]
    for fact in ("version 2018-06-30", "data cut-off 2018-06-30", "code commit abc1234 of 2026-11-30",
                 "https://example.org/ixd/2018-06-30/"):
        assert fact in text
    assert text.startswith("The authors. IxaThalDex: a living publication, ")


def test_bibtex_entry_fields():
    bib = derive_citation(PROV, "IxaThalDex: a living publication", "The authors")["bibtex"]
    assert bib.startswith("@misc{ixathaldex_2018_06_30,\n")
    assert "  year    = {2026}" in bib
    assert "  url     = {https://example.org/ixd/2018-06-30/}" in bib
    assert "code commit abc1234" in bib and bib.endswith("\n}")
    assert bib.count("{") == bib.count("}")


def test_real_data_citation_never_says_synthetic():
    cite = derive_citation({**PROV, "data": "trial"}, "T", "A")
    assert "synthetic" not in (cite["text"] + cite["bibtex"]).lower()
    assert "synthetic" in derive_citation(PROV, "T", "A")["text"]


def test_hostile_values_cannot_break_the_entry():
    cite = derive_citation({**PROV, "snapshot": "cut}_50%&x"}, "T {x}", "A & B")
    bib = cite["bibtex"]
    assert bib.count("{") == bib.count("}")
    assert r"50\%\&x" in bib and r"A \& B" in bib
    assert bibtex_key("cut}_50%&x") == "ixathaldex_cut_50_x"
    assert bibtex_text("a_b#c") == r"a\_b\#c"


def test_missing_facts_are_an_error():
    with pytest.raises(ValueError, match="commit"):
        derive_citation({**PROV, "commit": ""}, "T", "A")


def test_citation_cff_is_complete_and_matches_the_book():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "date-released", "type"):
        assert cff.get(key), key
    assert cff["title"] == config["title"]
    assert cff["authors"][0]["name"] == config["author"]
    assert cff["references"][0]["doi"] == "10.1038/s41416-019-0581-8"
