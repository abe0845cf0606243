"""The project: the one source of every path the package reads or writes.

A project is a folder holding ``_config.yml`` and ``_toc.yml`` (the book), ``chapters/``,
``book/``, ``data/snapshots/`` and ``data/published/claims.yaml``. The command works on the
project named by ``--project`` (which sets ``IXATHALDEX_PROJECT``), else on the one named by that
environment variable, else on the folder it runs in or the nearest parent that is a project. The
place where the package is installed never decides a path, so an installed package builds any
project folder, and a chapter's kernel (whose working folder is ``chapters/``) finds its project
the same way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ixathaldex.exceptions import ProjectError

ENV_VAR = "IXATHALDEX_PROJECT"
MARKERS = ("_config.yml", "_toc.yml")


def load_yaml(path: Path) -> dict:
    """A YAML file's mapping ({} when empty); a missing or malformed file raises ProjectError."""
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"{path}: missing")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path}: not valid YAML ({exc})") from None


def toc_files(toc: dict) -> list[str]:
    """Every document named in a parsed ``_toc.yml`` (root first), as written, without extension."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            found.extend(node[k] for k in ("root", "file") if isinstance(node.get(k), str))
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return list(dict.fromkeys(re.sub(r"\.(md|ipynb|rst)$", "", f) for f in found))


def find_project_root(start: Path | None = None) -> Path:
    """The project folder: ``$IXATHALDEX_PROJECT``, else ``start`` (default: the working folder)
    or its nearest parent holding both ``_config.yml`` and ``_toc.yml``."""
    named = os.environ.get(ENV_VAR)
    if named:
        root = Path(named).resolve()
        if not all((root / m).is_file() for m in MARKERS):
            raise ProjectError(f"{ENV_VAR}={named}: not a project folder (it needs {' and '.join(MARKERS)})")
        return root
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if all((folder / m).is_file() for m in MARKERS):
            return folder
    raise ProjectError(
        f"no project here: neither {start} nor a parent folder holds {' and '.join(MARKERS)}. "
        f"Run the command in a project folder, pass --project DIR, or set {ENV_VAR}.")


def use_project(root: Path) -> Path:
    """Make ``root`` the project of this process and of every kernel it starts; returns it."""
    root = Path(root).resolve()
    if not all((root / m).is_file() for m in MARKERS):
        raise ProjectError(f"--project {root}: not a project folder (it needs {' and '.join(MARKERS)})")
    os.environ[ENV_VAR] = str(root)
    return root


@dataclass
class Project:
    """Where a project keeps its inputs and where a build writes its outputs."""

    root: Path
    out: Path | None = None
    snapshot_root: Path | None = None

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        self.out = Path(self.out).resolve() if self.out else self.root / "_build" / "site"
        self.snapshot_root = Path(self.snapshot_root or self.configured_snapshot_root())

    def configured_snapshot_root(self) -> Path:
        """``ixathaldex: snapshot_root:`` of ``_config.yml`` (relative to the project root, may lie
        outside it; real data goes to an ignored folder, e.g. ``data/real``), else ``data/snapshots``."""
        config = load_yaml(self.config_path) if self.config_path.is_file() else {}
        settings = config.get("ixathaldex") if isinstance(config, dict) else None
        value = settings.get("snapshot_root") if isinstance(settings, dict) else None
        if value in (None, ""):
            return self.root / "data" / "snapshots"
        if not isinstance(value, str):
            raise ProjectError(f"{self.config_path}: ixathaldex.snapshot_root must be a folder path")
        return (self.root / Path(value).expanduser()).resolve()

    @classmethod
    def current(cls, **kwargs) -> "Project":
        """The project of this process (see :func:`find_project_root`)."""
        return cls(find_project_root(), **kwargs)

    @property
    def config_path(self) -> Path:
        return self.root / "_config.yml"

    @property
    def toc_path(self) -> Path:
        return self.root / "_toc.yml"

    @property
    def claims_path(self) -> Path:
        return self.root / "data" / "published" / "claims.yaml"

    @property
    def lock_path(self) -> Path:
        return self.root / "requirements.lock"

    @property
    def build_dir(self) -> Path:
        return self.root / "_build"

    @property
    def cache(self) -> Path:
        return self.build_dir / "cache"

    @property
    def typed_snapshots(self) -> Path:
        """The typed-snapshot cache: each snapshot's parsed tables (:mod:`ixathaldex.data.typed_cache`)."""
        return self.cache / "snapshots"

    def runs(self, version: str) -> Path:
        return self.build_dir / "runs" / version

    def toc_files(self) -> list[str]:
        """The documents of ``_toc.yml``: the one list of the book's pages and chapters."""
        return toc_files(load_yaml(self.toc_path))
