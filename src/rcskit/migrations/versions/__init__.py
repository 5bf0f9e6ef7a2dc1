"""Revision scripts of the rcskit store, oldest first (``v0001_initial`` creates every table)."""
