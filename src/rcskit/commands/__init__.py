"""Command-line commands that use provider accounts (see :mod:`rcskit.commands.provider_cli`)."""
