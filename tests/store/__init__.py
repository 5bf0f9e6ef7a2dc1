"""Tests of the message store and the capability cache (SQLite and PostgreSQL)."""
