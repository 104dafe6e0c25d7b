"""Where the data folders that ship with the package are: `rules/` and `schemas/`.

In a wheel they are inside the package; in a source checkout they sit beside it
(the package is files on disk: the stages read these folders as such). Every stage
that reads them asks here, so no stage reaches into another (the schemas are not the
rule catalogue's business).
"""

from __future__ import annotations

from pathlib import Path


class DataFolderMissing(Exception):
    """An installation without its data folders: a packaging bug."""


def data_dir(name: str) -> Path:
    package = Path(__file__).resolve().parent
    packaged = package / name
    if packaged.is_dir():
        return packaged
    beside = package.parent / name
    if beside.is_dir():
        return beside
    raise DataFolderMissing(f"data folder {name!r} not found in the gitops_lint package nor beside it")


def rules_dir() -> Path:
    return data_dir("rules")


def schemas_dir() -> Path:
    return data_dir("schemas")
