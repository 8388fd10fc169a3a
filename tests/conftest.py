"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from bot.catalog import Catalog, load_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
