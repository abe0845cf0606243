"""The ``ixathaldex`` command line: one sub-command per concern, each owned by its module.

Every owning module exposes ``configure_parser(parser)`` and ``run(args) -> int``; this file only
dispatches, so that modules can be developed independently. Only the chosen sub-command's modules
are imported (its options are added once it is known): ``ixathaldex build`` on an unchanged project
answers from :mod:`ixathaldex.site.uptodate` without importing the build's steps.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from ixathaldex.exceptions import IxaThalDexError
from ixathaldex.log import configure, logger
from ixathaldex.paths import use_project


@dataclass(frozen=True)
class Command:
    """A sub-command: the module that runs it, its one-line help, and optionally a light module
    that configures its parser and may answer first (``run_if_unchanged(args) -> int | None``)."""

    module: str
    help: str
    front: str | None = None


COMMANDS = {
    "validate": Command("ixathaldex.data.validate", "check one or more snapshot folders against the data rules"),
    "synth": Command("ixathaldex.synth.command", "generate the calibrated synthetic cohort and its data cuts"),
    "snapshot": Command("ixathaldex.data.snapshot",
                        "manage data cuts (`snapshot add FOLDER --cut DATE --label TEXT`)"),
    "build": Command("ixathaldex.site.build", "execute the chapters for every snapshot and build the versioned site",
                     front="ixathaldex.site.uptodate"),
    "withdraw": Command("ixathaldex.site.withdraw",
                        "take a version off the site (`withdraw CUT --reason TEXT`), leaving a notice"),
}


def chosen_command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is one, not the value of ``--project``)."""
    skip_next = False
    for word in argv:
        if skip_next:
            skip_next = False
        elif word.startswith("--p") and "--project".startswith(word):
            skip_next = True  # --project DIR (or an abbreviation of it)
        elif word == "--":
            continue
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command; the options of the one named in ``argv`` only (all of them
    without ``argv``)."""
    parser = argparse.ArgumentParser(prog="ixathaldex", description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument("--project", type=Path, default=None, metavar="DIR",
                        help="the project folder (default: the working folder or its nearest parent "
                             "holding _config.yml and _toc.yml, or $IXATHALDEX_PROJECT)")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = chosen_command(argv) if argv is not None else None
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        if argv is None or name == chosen:
            importlib.import_module(command.front or command.module).configure_parser(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    configure(quiet=args.quiet)
    command = COMMANDS[args.command]
    try:
        if args.project is not None:
            use_project(args.project)
        if command.front is not None:
            answer = importlib.import_module(command.front).run_if_unchanged(args)
            if answer is not None:
                return int(answer)
        return int(importlib.import_module(command.module).run(args) or 0)
    except IxaThalDexError as exc:
        logger.error("error: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
