"""Where the data folders that ship with the package are: `rules/` and `schemas/`.

In a wheel they are inside the package (found through importlib.resources); in a
source checkout they sit beside it. Every stage that reads them asks here, so no
stage reaches into another (the schemas are not the rule catalogue's business).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


class DataFolderMissing(Exception):
    """An installation without its data folders: a packaging bug."""


def data_dir(name: str) -> Path:
    packaged = Path(str(resources.files("gitops_lint").joinpath(name)))
    if packaged.is_dir():
        return packaged
    beside = Path(__file__).resolve().parent.parent / name
    if beside.is_dir():
        return beside
    raise DataFolderMissing(f"data folder {name!r} not found in the gitops_lint package nor beside it")


def rules_dir() -> Path:
    return data_dir("rules")


def schemas_dir() -> Path:
    return data_dir("schemas")
