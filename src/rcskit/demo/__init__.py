"""``rcskit demo``: the emulator and the showcase bot together, one command to a conversation.

::

    rcskit demo                    # http://127.0.0.1:8000, opens the demo phone's page
    rcskit demo --port 8080 --no-browser

The showcase bot (:mod:`rcskit.demo.showcase`) runs as the emulator's Dotgo demo bot; the
phone page shows its welcome card, and every keyword answers with another RCS feature. See
:mod:`rcskit.demo.server` for how the two are wired in one process.
"""

from __future__ import annotations
