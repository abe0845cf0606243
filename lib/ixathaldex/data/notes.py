"""Snapshot notes: what a snapshot holds beyond the contract, or leaves empty, without being wrong.

A note is not a problem: extra columns and extra ``PARAMCD`` values are kept as delivered and no
analysis reads them; an optional column left empty in every row makes some results "not
computable". ``snapshot_notes(folder)`` lists them; ``ixathaldex validate`` and ``ixathaldex
snapshot add`` print them; ``validate_snapshot`` never returns them. The contract (required and
optional columns, what each optional one feeds) is ``docs/data-model.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ixathaldex.data.manifest import DATA_FILES
from ixathaldex.data.schema import SCHEMA, read_table, split_params

#: optional column -> what cannot be computed when it is empty in every row (docs/data-model.md)
OPTIONAL_FEEDS = {
    ("adsl", "TRTEDT"): "treatment durations assume every patient is still on therapy",
    ("adsl", "GAIN1Q"): "the gain-of-1q21 comparisons (response, PFS, OS, Cox screen)",
    ("adsl", "FLTSTDT"): "Table 1's months since the start of first-line therapy",
    ("adsl", "HGB"): "the haemoglobin < 100 g/L factor of the OS Cox models",
    ("adsl", "ALB"): "the albumin < 35 g/L factor of the OS Cox models",
    ("adsl", "GFR"): "the GFR < 60 mL/min comparisons (PFS, OS, Cox models)",
    ("adsl", "FRAILTY"): "the fit vs unfit/frail comparisons (PFS, OS, Cox screen)",
    ("adsl", "MNTSDT"): "maintenance duration and the timing of response upgrades",
    ("adsl", "DCSREAS"): "the reasons for stopping in the patient flow",
    ("adrs", "ADT"): "the timing of response upgrades during maintenance",
}


@dataclass(frozen=True)
class Note:
    """Something kept or missing that is allowed (never an error)."""

    file: str
    rule: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        col = f", column {self.column}" if self.column else ""
        return f"{self.file}{col}: {self.message} [note: {self.rule}]"


def table_notes(table: str, df) -> list[Note]:
    """The notes of one table read as text (see :func:`snapshot_notes`)."""
    file = f"{table}.csv"
    contract = [c.name for c in SCHEMA[table]]
    notes = []
    extra = [c for c in df.columns if c not in contract]
    if extra:
        notes.append(Note(file, "extra-column", f"{len(extra)} column(s) beyond the contract kept as "
                          f"delivered, not analysed: {', '.join(map(str, extra))}"))
    other = split_params(table, df)[1]
    for code, n in other["PARAMCD"].value_counts().sort_index().items() if len(other) else ():
        notes.append(Note(file, "extra-parameter", f"{n} row(s) with PARAMCD {code!r} kept as delivered; "
                          "no analysis reads them", "PARAMCD"))
    for col in SCHEMA[table]:
        feeds = OPTIONAL_FEEDS.get((table, col.name))
        if feeds and col.name in df.columns and len(df) and df[col.name].isna().all():
            notes.append(Note(file, "empty-optional-column", f"empty in every row: not computable: {feeds}",
                              col.name))
    return notes


def snapshot_notes(folder: Path) -> list[Note]:
    """Every note of the snapshot (or folder of CSVs) in ``folder``; unreadable files are skipped
    (they are problems, reported by ``validate_snapshot``)."""
    folder = Path(folder)
    notes: list[Note] = []
    if not folder.is_dir():
        return notes
    for name in DATA_FILES:
        df, _ = read_table(folder / name)
        if df is not None:
            notes += table_notes(name[:-4], df)
    return notes
