"""Demo data generated once per test session (the generators are deterministic)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tierwise.demo import write_b2b, write_bank, write_retail

AS_OF = date(2026, 6, 30)


def read(folder: Path, name: str) -> pd.DataFrame:
    """A generated CSV with every column as text, as a user's tool would first see it."""
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def retail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("retail")
    write_retail(folder)
    return folder


@pytest.fixture(scope="session")
def bank_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bank")
    write_bank(folder)
    return folder


@pytest.fixture(scope="session")
def b2b_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("b2b")
    write_b2b(folder)
    return folder


@pytest.fixture(scope="session")
def orders(retail_dir: Path) -> pd.DataFrame:
    frame = read(retail_dir, "orders.csv")
    frame["amount"] = frame["amount"].astype(float)
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="%Y-%m-%d")
    return frame


@pytest.fixture(scope="session")
def retail_customers(retail_dir: Path) -> pd.DataFrame:
    return read(retail_dir, "customers.csv")
