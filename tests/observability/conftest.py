"""Fixtures of the campaign tests, for the end-to-end metrics tests of ``rcskit worker`` and
``rcskit campaign run``: a real emulator server, SQLite and PostgreSQL databases."""

from tests.campaign.conftest import (  # noqa: F401 - fixtures re-exported to this folder
    clock,
    database,
    database_url,
    emulator_factory,
    postgres_database_url,
    postgres_probe,
    store,
)
