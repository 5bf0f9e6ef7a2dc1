"""Alembic migrations of the rcskit store (``script_location`` of :func:`rcskit.store.migrate`).

Apply them with ``rcskit db upgrade [--database URL]`` or ``await rcskit.store.migrate(url)``.
A developer adds one with ``alembic -c <an ini whose script_location is this folder> revision``;
:mod:`rcskit.store.schema` must then describe the same tables (a test compares them).
"""
