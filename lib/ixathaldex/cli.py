"""The ``ixathaldex`` command line: one sub-command per concern, each owned by its module.

Every owning module exposes ``configure_parser(parser)`` and ``run(args) -> int``; this file only
dispatches, so that modules can be developed independently.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from ixathaldex.exceptions import IxaThalDexError
from ixathaldex.log import configure, logger
from ixathaldex.paths import use_project

# sub-command -> (module, one-line help)
COMMANDS = {
    "validate": ("ixathaldex.data.validate", "check one or more snapshot folders against the data rules"),
    "synth": ("ixathaldex.synth.command", "generate the calibrated synthetic cohort and its data cuts"),
    "snapshot": ("ixathaldex.data.snapshot", "manage data cuts (`snapshot add FOLDER --cut DATE --label TEXT`)"),
    "build": ("ixathaldex.site.build", "execute the chapters for every snapshot and build the versioned site"),
    "withdraw": ("ixathaldex.site.withdraw", "take a version off the site (`withdraw CUT --reason TEXT`), leaving a notice"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ixathaldex", description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument("--project", type=Path, default=None, metavar="DIR",
                        help="the project folder (default: the working folder or its nearest parent "
                             "holding _config.yml and _toc.yml, or $IXATHALDEX_PROJECT)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        module = importlib.import_module(module_name)
        module.configure_parser(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(quiet=args.quiet)
    module = importlib.import_module(args._module)
    try:
        if args.project is not None:
            use_project(args.project)
        return int(module.run(args) or 0)
    except IxaThalDexError as exc:
        logger.error("error: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
