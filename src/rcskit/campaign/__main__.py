"""``python -m rcskit.campaign create|run|status|report|webhook|list ...``: the campaign
commands on their own (the same as ``rcskit campaign ...``; they live in
:mod:`rcskit.cli.campaign`), e.g. for a runner started by a supervisor or a test."""

from __future__ import annotations

from ..cli.campaign import commands

if __name__ == "__main__":
    commands()(prog_name="rcskit campaign")
