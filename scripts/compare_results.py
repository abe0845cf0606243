#!/usr/bin/env python3
"""Compare two results.json files by value, after renaming the old file's keys.

    python scripts/compare_results.py OLD NEW [--mapping FILE]

FILE (e.g. docs/results-key-mapping.json) holds ``renamed`` (old key -> new key) and optionally
``added`` (keys NEW may have that OLD had under no name). Values compare exactly (JSON equality:
3 == 3.0 is a difference of type, reported). Prints every difference; exit 1 if there is one,
0 when the two files agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        sys.exit(f"{path}: cannot read: {exc}")
    if not isinstance(data, dict):
        sys.exit(f"{path}: expected a JSON object (key -> value)")
    return data


def same(a, b) -> bool:
    return type(a) is type(b) and (a == b or a != a and b != b)  # NaN never appears in JSON, but be safe


def compare(old: dict, new: dict, renamed: dict, added: set) -> list[str]:
    problems = []
    clash = sorted(k for k in renamed.values() if k in old)
    problems += [f"mapping: new name {k!r} is already a key of OLD" for k in clash]
    missing_src = sorted(k for k in renamed if k not in old)
    problems += [f"mapping: {k!r} is not a key of OLD" for k in missing_src]
    mapped = {renamed.get(k, k): v for k, v in old.items()}
    for k in sorted(set(mapped) - set(new)):
        problems.append(f"missing in NEW: {k} (OLD value {mapped[k]!r})")
    for k in sorted(set(new) - set(mapped)):
        if k not in added:
            problems.append(f"only in NEW: {k} = {new[k]!r}")
    for k in sorted(set(new) & set(mapped)):
        if not same(mapped[k], new[k]):
            problems.append(f"value differs: {k}: OLD {mapped[k]!r} NEW {new[k]!r}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--mapping", help="JSON file with 'renamed' (old -> new) and optional 'added' keys")
    args = ap.parse_args(argv)
    old, new = load(args.old), load(args.new)
    renamed, added = {}, set()
    if args.mapping:
        m = load(args.mapping)
        renamed, added = dict(m.get("renamed", {})), set(m.get("added", []))
    problems = compare(old, new, renamed, added)
    expected_added = sorted(added & set(new))
    print(f"OLD {args.old}: {len(old)} keys; NEW {args.new}: {len(new)} keys; "
          f"{len(renamed)} renamed, {len(expected_added)} added as declared")
    for p in problems:
        print("  " + p)
    print("same values" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
