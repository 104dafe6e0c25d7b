"""What `explain` pages cite: public documents a user can open, not our internal notes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

RULES = sorted((Path(__file__).resolve().parent.parent / "rules").glob("*.yaml"))


@pytest.mark.parametrize("path", RULES, ids=[p.stem for p in RULES])
def test_references_cite_public_documents(path: Path) -> None:
    references = yaml.safe_load(path.read_text(encoding="utf-8")).get("references") or []
    for reference in references:
        assert isinstance(reference, str) and "\n" not in reference, reference
        assert "domain reference" not in reference.lower(), f"{path.name}: {reference}"
        assert "§" not in reference, f"{path.name}: {reference}"
