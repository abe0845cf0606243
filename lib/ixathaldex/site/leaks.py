"""The published version's privacy checks: no subject id of any snapshot and no local path of the
building machine in any published text file.

Subject ids are the actual ``USUBJID`` values (and ``SUBJID`` values, when that column exists) of
every snapshot's ADSL, matched as whole tokens: a token is a run of letters and digits joined by the
separators the ids themselves use (``-``, ``.``, …), so ``204.01.0007`` is found in
``patient 204.01.0007.`` and ``0007A`` in ``id=0007A;``, but not inside ``X0007AB``. One pass over
each file and a set lookup per token keeps the check linear in the site's size, whatever the number
of patients.

Purely numeric ids are ordinary numbers on a page as well (``1007`` patients-days, the year
``2018``), so (docs/decisions.md, "Subject ids that are plain numbers"):

- a ``SUBJID`` made only of digits and at most ``MAX_PLAIN_NUMBER_DIGITS`` long is not searched
  (the subject's ``USUBJID``, which normally contains it, still is);
- an id made only of digits is not taken from inside a longer run made only of digits and
  separators (``0.00012345`` or ``12345.6`` are numbers, not the SUBJID ``12345``); as a whole
  token, or inside a run with letters (``patient-12345``), it is still found.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

#: ids shorter than this are not searched (``001`` would match ordinary numbers)
MIN_ID_LENGTH = 4
#: the columns of ``adsl.csv`` whose values are subject ids
ID_COLUMNS = ("USUBJID", "SUBJID")
#: a SUBJID of only digits and at most this long is an ordinary number, not searched
MAX_PLAIN_NUMBER_DIGITS = 4
#: paths shorter than this are not searched as local paths (``/``, ``/tmp`` are everywhere)
MIN_PATH_LENGTH = 5
SNIFF_BYTES = 8192


def load_subject_ids(snapshot_folders: list[Path]) -> set[str]:
    """Every ``USUBJID`` and ``SUBJID`` value that is searched (:func:`is_searched_id`) in the
    ``adsl.csv`` of each snapshot folder (ADSL lists every subject of the cut)."""
    ids: set[str] = set()
    for folder in snapshot_folders:
        path = Path(folder) / "adsl.csv"
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            cols = [(i, name.strip().upper()) for i, name in enumerate(header)
                    if name.strip().upper() in ID_COLUMNS]
            for row in reader:
                for i, name in cols:
                    if i < len(row) and is_searched_id(row[i].strip(), name):
                        ids.add(row[i].strip())
    return ids


def is_searched_id(value: str, column: str = "USUBJID") -> bool:
    """Whether a subject id of ``column`` is searched in published files: at least
    ``MIN_ID_LENGTH`` characters, and a SUBJID not a plain number of at most
    ``MAX_PLAIN_NUMBER_DIGITS`` digits."""
    if len(value) < MIN_ID_LENGTH:
        return False
    return not (column == "SUBJID" and value.isdigit() and len(value) <= MAX_PLAIN_NUMBER_DIGITS)


class IdMatcher:
    """Whole-token lookup of a set of ids in text (one regex pass plus set lookups)."""

    def __init__(self, ids: set[str]):
        self.ids = frozenset(ids)
        seps = sorted({ch for i in self.ids for ch in i if not ch.isalnum()})
        sep_class = "".join(re.escape(ch) for ch in seps)
        alnum = r"[^\W_]"
        joined = rf"(?:{alnum}|[{sep_class}](?={alnum}))*" if seps else rf"{alnum}*"
        self.run = re.compile(rf"{alnum}{joined}")
        self.split = re.compile(rf"[{sep_class}]") if seps else None
        self.parts = sorted({len(self.split.split(i)) if self.split else 1 for i in self.ids})
        #: the first part of every id: a run none of whose parts is one holds no id
        self.firsts = frozenset(self.split.split(i)[0] for i in self.ids) if self.split else frozenset()

    def find(self, text: str) -> set[str]:
        """The ids that occur in ``text`` as whole tokens."""
        if not self.ids:
            return set()
        found = set()
        ids = self.ids
        for run in self.run.findall(text):
            if run in ids:
                found.add(run)
            elif self.split is not None and self.split.search(run) \
                    and not self.firsts.isdisjoint(self.split.split(run)):
                found |= self.inner(run)
        return found

    def inner(self, run: str) -> set[str]:
        """Ids made of consecutive separator-delimited parts of a longer run; an id of digits only
        is not taken from a run of digits and separators (``0.00012345``): that is a number."""
        numeric = self.split.sub("", run).isdigit()
        starts = [0] + [m.end() for m in self.split.finditer(run)]
        ends = [m.start() for m in self.split.finditer(run)] + [len(run)]
        found = set()
        for a in range(len(starts)):
            for k in self.parts:
                b = a + k - 1
                part = run[starts[a]:ends[b]] if b < len(ends) else None
                if part in self.ids and not (numeric and part.isdigit()):  # a number inside a number
                    found.add(part)
        return found


def published_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted: what a check of the folder reads, listed now (the build
    lists a version's files before its PDF is printed into the same folder, beside the checks)."""
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def published_texts(folder: Path, files: list[Path] | None = None):
    """``(relative path, text)`` of every text file under ``folder``, or of ``files`` (listed by
    :func:`published_files`) when given; a file with a NUL byte in its first bytes is binary:
    images, fonts."""
    folder = Path(folder)
    for path in (published_files(folder) if files is None else files):
        data = path.read_bytes()
        if b"\0" in data[:SNIFF_BYTES]:
            continue
        yield path.relative_to(folder).as_posix(), data.decode("utf-8", errors="replace")


def find_ids(folder: Path, matcher: IdMatcher, pattern: re.Pattern | None = None) -> list[str]:
    """``path: id`` for every subject id (``matcher``) or id-like string (``pattern``) in the
    text files of ``folder``."""
    hits = []
    for rel, text in published_texts(folder):
        found = matcher.find(text)
        if pattern is not None:
            found |= set(pattern.findall(text))
        hits += [f"{rel}: {i}" for i in sorted(found)]
    return hits


def local_paths(*extra: Path | str | None) -> list[str]:
    """The building machine's paths that must never be published: the home folder and ``extra``
    (project root, stage and temporary folders), each as given and resolved, longest first."""
    found = set()
    for p in (os.path.expanduser("~"), *extra):
        if not p:
            continue
        for s in {str(p), os.path.realpath(str(p))}:
            s = s.rstrip("/")
            if len(s) >= MIN_PATH_LENGTH:
                found.add(s)
    return sorted(found, key=len, reverse=True)


def find_local_paths(folder: Path, paths: list[str], files: list[Path] | None = None) -> list[str]:
    """``path: local path`` for every published text file of ``folder`` (or of ``files``) that
    contains one of ``paths`` (as a whole path component: ``/home/ann`` is not found in ``/home/anne``)."""
    if not paths:
        return []
    pattern = re.compile("(?:" + "|".join(re.escape(p) for p in paths) + r")(?![\w.-])")
    hits = []
    for rel, text in published_texts(folder, files):
        for match in sorted(set(pattern.findall(text))):
            hits.append(f"{rel}: {match}")
    return hits


def strip_staged_notebooks(stage: Path) -> None:
    """Rewrite every notebook of a staged version without papermill's local paths (the pages and
    the downloadable notebooks are made from these files)."""
    for path in sorted(Path(stage).rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        pm = (nb.get("metadata") or {}).get("papermill")
        if isinstance(pm, dict) and ("input_path" in pm or "output_path" in pm):
            path.write_text(json.dumps(strip_notebook_paths(nb), ensure_ascii=False), encoding="utf-8")


def strip_notebook_paths(nb: dict) -> dict:
    """Remove what papermill records of the building machine (``input_path``, ``output_path``)
    from a notebook's metadata; returns the notebook."""
    pm = (nb.get("metadata") or {}).get("papermill")
    if isinstance(pm, dict):
        for key in ("input_path", "output_path"):
            pm.pop(key, None)
    return nb
