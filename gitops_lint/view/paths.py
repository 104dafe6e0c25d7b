"""Repository paths as kustomize and Flux join them: small and import-free, so a run that builds no view
(one file checked) does not load the kustomize model to ask them."""

from __future__ import annotations


def join_path(directory: str, entry: str, *, clamp: bool = False, floor: str = "") -> str | None:
    """`entry` relative to `directory`, normalised; None when it climbs above the root.

    With `clamp`, climbing above `floor` (the source root) stops there instead,
    as Flux's secure join does for a Kustomization's spec.path.
    """
    if _plain(entry) and _plain(directory):  # most entries: nothing to normalise
        return f"{directory}/{entry}" if directory and entry else directory or entry
    parts: list[str] = [p for p in directory.split("/") if p and p != "."]
    lowest = len([p for p in floor.split("/") if p and p != "."])
    for part in entry.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if len(parts) <= lowest:
                if clamp:
                    continue
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _plain(path: str) -> bool:
    """A relative path with no `.`, `..` or empty part: already normal."""
    return not path.startswith((".", "/")) and "/." not in path and "//" not in path and not path.endswith("/")


def archived(rel: str) -> bool:
    """Files in hidden folders (`.archive/`, `.old/`) are parked, not applied: reference rules skip them.

    `.gitlab/` is the one hidden folder that holds live configuration.
    """
    if "/." not in rel and not rel.startswith("."):
        return False  # no part starts with a dot
    return any(part.startswith(".") and part not in (".gitlab", ".", "..") for part in rel.split("/")[:-1])
