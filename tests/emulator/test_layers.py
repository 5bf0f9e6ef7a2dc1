"""The emulator is the other side of the wire: it never imports rcskit's client-side layers."""

from __future__ import annotations

import ast
from pathlib import Path

import rcskit.emulator

FORBIDDEN = ("client", "providers", "app", "campaign", "store", "cli", "transport", "inbound")
PACKAGE = Path(rcskit.emulator.__file__).parent
# The socket helpers ``rcskit emulator`` uses still come from the bot app's command module; the
# CLI restructuring moves them to a neutral module and removes these (then drop this set).
PENDING_CLI_MOVE = {"app.py: rcskit.app.commands"}


def _rcskit_imports(path: Path) -> list[str]:
    """Every ``rcskit.<x>`` module a file imports, absolute or relative, at any depth."""
    rel = path.relative_to(PACKAGE.parent)  # emulator/...
    package = list(rel.parent.parts)  # ["emulator", ...]
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("rcskit.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.startswith("rcskit."):
                    found.append(node.module)
                continue
            base = package[: len(package) - (node.level - 1)]
            found.append(".".join(["rcskit", *base, *(node.module or "").split(".")]).rstrip("."))
    return found


def test_the_emulator_imports_no_client_side_layer() -> None:
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in _rcskit_imports(path):
            top = module.split(".")[1] if "." in module else ""
            if top in FORBIDDEN:
                offending.append(f"{path.relative_to(PACKAGE)}: {module}")
    assert set(offending) - PENDING_CLI_MOVE == set()


def test_the_layer_check_sees_relative_imports_above_the_package() -> None:
    flavour = PACKAGE / "flavours" / "maap" / "send.py"
    assert "rcskit.emulator.core.state" in _rcskit_imports(flavour)
    assert "rcskit.app.commands" in _rcskit_imports(PACKAGE / "app.py") or not any(
        "app.commands" in line for line in (PACKAGE / "app.py").read_text().splitlines()
    )
