"""Access to the golden fixtures extracted from the seeds (tests/data/seeds/index.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "seeds"


def entries(**match: Any) -> list[dict[str, Any]]:
    """Index entries whose fields equal every ``match`` value (a callable value is a predicate)."""
    out = []
    for entry in json.loads((DATA / "index.json").read_text()):
        if all(
            want(entry.get(key)) if callable(want) else entry.get(key) == want
            for key, want in match.items()
        ):
            out.append(entry)
    return out


def load(entry_or_file: dict[str, Any] | str) -> Any:
    """The JSON content of a fixture (an index entry or a path relative to tests/data/seeds)."""
    file = entry_or_file["file"] if isinstance(entry_or_file, dict) else entry_or_file
    return json.loads((DATA / file).read_text())
