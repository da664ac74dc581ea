"""Shared fixtures: real SQLite files built by Alembic, and a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from metrics.db import migrate

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite database migrated to head by Alembic."""
    url = f"sqlite:///{tmp_path / 'jianfu.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # python-wechaty and the digest writer use relative paths; keep them in tmp.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / ".wechaty"))
    yield


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 9, 21, 12, 0, tzinfo=UTC))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
