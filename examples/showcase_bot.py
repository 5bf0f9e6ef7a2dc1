"""The showcase: answers keywords with every content type and every suggested action.

The bot lives in the package (``rcskit.demo.showcase``) so that ``rcskit demo`` has it once
rcskit is installed; this file re-exports it for ``rcskit run examples/showcase_bot.py:bot``.
Read ``src/rcskit/demo/showcase.py`` for the handlers.
"""

from __future__ import annotations

from rcskit.demo.showcase import (
    DEFAULT_MEDIA_BASE,
    KEYWORDS,
    PHONE,
    TEMPLATE_CODE,
    WELCOME_TITLE,
    actions,
    build_bot,
    card,
    menu,
    showcase,
    welcome,
)

__all__ = [
    "DEFAULT_MEDIA_BASE",
    "KEYWORDS",
    "PHONE",
    "TEMPLATE_CODE",
    "WELCOME_TITLE",
    "actions",
    "bot",
    "build_bot",
    "card",
    "menu",
    "showcase",
    "welcome",
]

# A new Bot each time this file is loaded (its de-duplication and state file is
# rcskit-bot.sqlite3 in the working directory, as for the other examples). Its media URLs
# point at DEFAULT_MEDIA_BASE, where `rcskit demo` serves them on its default port.
bot = build_bot()
