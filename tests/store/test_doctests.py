"""The examples in the store's and the cache's docstrings run and are right."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

import rcskit.campaign.capcache
import rcskit.store.engine
import rcskit.store.records
import rcskit.store.states


@pytest.mark.parametrize(
    "module",
    [rcskit.store.states, rcskit.store.records, rcskit.store.engine, rcskit.campaign.capcache],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
