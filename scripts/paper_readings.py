#!/usr/bin/env python3
"""Regenerate the findings section of docs/paper-readings.md from the recheck's findings.

    PYTHONPATH=lib python scripts/paper_readings.py [--check]

Rewrites the section between the generated markers with ``table_consistency()``; ``--check`` writes
nothing and exits 1 when the document is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ixathaldex.claims.consistency import table_consistency
from ixathaldex.claims.consistency_readings import update_readings_text, write_paper_readings

DOC = Path(__file__).resolve().parents[1] / "docs" / "paper-readings.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the document is out of date")
    args = parser.parse_args()
    findings = table_consistency()
    if args.check:
        text = DOC.read_text(encoding="utf-8")
        if update_readings_text(text, findings) != text:
            print(f"{DOC}: the generated findings are out of date; run scripts/paper_readings.py")
            return 1
        return 0
    print(f"{DOC}: {'rewritten' if write_paper_readings(DOC, findings) else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
