"""The PDF bookmarks' repair (site.pdf.repair_outline): Chromium's bookmark titles with a doubled
first line or a lost space get their heading's text, appended to the file as an incremental update
that strict PDF readers accept, without touching the printed pages."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter

from ixathaldex.site.pdf import repair_outline

HEADINGS = ["Survival", "Overview", "Progression-free and overall survival (Figure 1)", "Summary",
            "Prognostic factors", "Multivariate Cox model for OS", "Méthodes d’analyse"]
# as Chromium writes them: the first line twice, a space lost where the heading wrapped
PRINTED = ["SurvivalSurvival", "Overview", "Progression-free and overall survival(Figure 1)", "Summary",
           "Prognostic factorsPrognostic factors", "Multivariate Cox model for OS", "Méthodes d’Méthodes d’analyse"]


def titles(path: Path, strict: bool = True) -> list[str]:
    out = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append(str(item.title))
    walk(PdfReader(str(path), strict=strict).outline)
    return out


def printed_pdf(path: Path) -> Path:
    """A 3-page PDF with nested bookmarks titled as in PRINTED (pypdf writes a classic xref table)."""
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=200, height=200)
    top = writer.add_outline_item(title=PRINTED[0], page_number=0)
    for title in PRINTED[1:4]:
        writer.add_outline_item(title=title, page_number=1, parent=top)
    second = writer.add_outline_item(title=PRINTED[4], page_number=2)
    writer.add_outline_item(title=PRINTED[5], page_number=2, parent=second)
    writer.add_outline_item(title=PRINTED[6], page_number=2)
    with open(path, "wb") as out:
        writer.write(out)
    return path


def test_titles_are_repaired_in_an_update_appended_to_the_file(tmp_path):
    path = printed_pdf(tmp_path / "v.pdf")
    before = path.read_bytes()
    assert titles(path) == PRINTED
    assert repair_outline(path, HEADINGS) == 4
    after = path.read_bytes()
    assert after.startswith(before) and len(after) > len(before)      # an incremental update
    assert titles(path) == HEADINGS                                   # read strictly: xref and trailer sound
    reader = PdfReader(str(path), strict=True)
    assert len(reader.pages) == 3
    assert reader.trailer["/Prev"] == int(before.rsplit(b"startxref", 1)[1].split()[0])


def test_a_second_repair_changes_nothing(tmp_path):
    path = printed_pdf(tmp_path / "v.pdf")
    repair_outline(path, HEADINGS)
    once = path.read_bytes()
    assert repair_outline(path, HEADINGS) == 0
    assert path.read_bytes() == once


def test_a_pdf_without_bookmarks_is_left_alone(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    path = tmp_path / "plain.pdf"
    with open(path, "wb") as out:
        writer.write(out)
    before = path.read_bytes()
    assert repair_outline(path, HEADINGS) == 0
    assert path.read_bytes() == before
