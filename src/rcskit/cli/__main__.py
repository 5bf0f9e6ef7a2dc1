"""``python -m rcskit.cli ...``: the same as the ``rcskit`` command."""

from __future__ import annotations

from . import main

main()
