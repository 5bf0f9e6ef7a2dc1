"""rcskit: one typed, provider-neutral Python toolkit for RCS Business Messaging."""

__version__ = "0.1.0"
