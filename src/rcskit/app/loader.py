"""Find a user's :class:`~rcskit.app.Bot` by name: ``file.py:bot`` or ``package.module:bot``.

::

    from rcskit.app.loader import load_bot

    bot = load_bot("examples/echo.py:bot")      # what ``rcskit run examples/echo.py`` serves
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from .bot import Bot

__all__ = ["load_bot"]


def _import_file(location: str) -> Any:
    """Import the Python file ``location`` as a module (its folder joins ``sys.path``, so the
    bot may import its neighbours). Errors are ValueError with the reason."""
    path = Path(location)
    if not path.is_file():
        raise ValueError(f"{location}: no such file")
    name = f"rcskit_user_bot_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{location}: cannot be imported as Python")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        del sys.modules[name]
        where = f"{location}, line {err.lineno}" if err.lineno else location
        raise ValueError(f"{where}: syntax error: {err.msg}") from None
    return module


def load_bot(target: str) -> Bot:
    """The Bot named by ``file.py:attr`` or ``package.module:attr`` (``attr`` defaults to ``bot``).

    ``attr`` may also be a function that returns a Bot. Errors are ValueError with the reason
    (a syntax error in the file is one such error, naming the file and line).
    """
    location, sep, attr = target.rpartition(":")
    if not sep:
        location, attr = target, "bot"
    if not location or not attr:
        raise ValueError(f"{target!r}: expected file.py:bot or package.module:bot")
    module: Any
    if location.endswith(".py") or "/" in location or "\\" in location:
        module = _import_file(location)
    else:
        try:
            module = importlib.import_module(location)
        except SyntaxError as err:
            raise ValueError(
                f"{err.filename or location}, line {err.lineno}: syntax error: {err.msg}"
            ) from None
        except ImportError as err:
            raise ValueError(f"{location}: cannot import ({err})") from None
    if not hasattr(module, attr):
        raise ValueError(f"{location} has no attribute {attr!r}")
    found = getattr(module, attr)
    if not isinstance(found, Bot) and callable(found):
        found = found()
    if not isinstance(found, Bot):
        raise ValueError(f"{target} is a {type(found).__name__}, not an rcskit Bot")
    return found
