"""The inspectors' SQL views: queryable, masked, consistent with the queries, documented, frozen."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from metrics.db import alembic_config, make_engine, migrate
from metrics.queries import person_week
from metrics.views import OPTED_OUT, VIEWS, create_sql
from tests.inspector_sample import OPTED_OUT_NAME, WEEK, populate

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "inspectors.md"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    with eng.begin() as conn:
        populate(conn)
    yield eng
    eng.dispose()


def _rows(engine: Engine, view: str) -> tuple[list[str], list[dict[str, Any]]]:
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT * FROM {view}"))
        return list(result.keys()), [dict(r._mapping) for r in result]


@pytest.mark.parametrize("view", list(VIEWS))
def test_view_has_documented_columns_and_rows(engine: Engine, view: str) -> None:
    """Each view answers with exactly the columns metrics/views.py describes, and has rows."""
    columns, rows = _rows(engine, view)
    assert list(VIEWS[view].columns) == columns
    assert rows, f"{view} is empty on the sample week"


@pytest.mark.parametrize("view", list(VIEWS))
def test_opted_out_person_never_named(engine: Engine, view: str) -> None:
    """The opted-out cadre's name appears in no cell of any view, even left in the people row."""
    _, rows = _rows(engine, view)
    cells = [str(v) for row in rows for v in row.values()]
    assert [] == [c for c in cells if OPTED_OUT_NAME in c]
    if view == "v_person_week":
        assert OPTED_OUT not in cells


def test_person_week_view_matches_weekly_query(engine: Engine) -> None:
    """v_person_week gives the same per-person counts as metrics.queries.person_week."""
    with engine.connect() as conn:
        expected = {
            p.name: (
                p.received,
                p.received_off_hours,
                p.pings_off_hours,
                p.pings_all_off_hours,
                p.demands,
                p.demands_off_hours,
            )
            for p in person_week(conn, WEEK, "Asia/Shanghai")
        }
    _, rows = _rows(engine, "v_person_week")
    got = {
        r["person"]: (
            r["received"],
            r["received_off_hours"],
            r["pings_off_hours"],
            r["mention_all_off_hours"],
            r["demands"],
            r["demands_off_hours"],
        )
        for r in rows
        if r["week"] == WEEK
    }
    assert expected == got
    assert 2 == got["王建国"][2]  # @-ed late on Wednesday and Thursday


def test_repeated_demand_across_groups_found(engine: Engine) -> None:
    """The same ledger demand sent again a day later in another group is one repeated pair."""
    _, rows = _rows(engine, "v_repeated_demands")
    assert [("镇党政办工作群", "农业农村办通知群", "王建国", "张伟", 1)] == [
        (
            r["first_group"],
            r["repeat_group"],
            r["first_sender"],
            r["repeat_sender"],
            r["other_group"],
        )
        for r in rows
    ]
    assert 1.0 < float(rows[0]["days_apart"]) < 1.1


def test_after_hours_pings_mask_and_list_mention_all(engine: Engine) -> None:
    """Pings of the opted-out cadre show 已退出成员; @所有人 messages are listed as such."""
    _, rows = _rows(engine, "v_after_hours_pings")
    targets = sorted(r["target"] for r in rows)
    assert (
        sorted(["@所有人", "@所有人", "李秀英", "王建国", "王建国", "陈静", OPTED_OUT]) == targets
    )


def test_group_activity_and_overlap(engine: Engine) -> None:
    """Hygiene views count current members per person and overlap by the smaller group."""
    _, activity = _rows(engine, "v_group_activity")
    by_name = {r["group_name"]: r for r in activity}
    assert 6 == by_name["镇党政办工作群"]["member_count"]
    assert 1 == by_name["森林防火专项工作群"]["past_end_date"]
    assert 0 == by_name["镇党政办工作群"]["past_end_date"]
    assert float(by_name["森林防火专项工作群"]["days_idle"]) > 0
    _, overlap = _rows(engine, "v_group_overlap")
    pairs = {(r["group_a"], r["group_b"]): float(r["overlap_ratio"]) for r in overlap}
    assert 1.0 == pairs[("镇党政办工作群", "农业农村办通知群")]
    assert "乡村振兴报表群" not in {name for pair in pairs for name in pair}


def _doc_sections() -> dict[str, set[str]]:
    """`### name` headings of the inspectors' document and the `column` names in their tables."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^###\s+`?([a-z_]+)`?\s*$", line)
        if heading:
            current = sections.setdefault(heading[1], set())
        elif line.startswith("#"):
            current = None
        elif current is not None and line.startswith("|"):
            cell = re.match(r"^\|\s*`([a-z_0-9]+)`\s*\|", line)
            if cell:
                current.add(cell[1])
    return sections


def test_document_covers_every_table_view_and_column(db_url: str) -> None:
    """docs/inspectors.md has a section for every table and view in the database, every column."""
    engine = make_engine(db_url)
    insp = inspect(engine)
    in_db = {
        name: {c["name"] for c in insp.get_columns(name)}
        for name in [*insp.get_table_names(), *insp.get_view_names()]
        if name != "alembic_version"
    }
    engine.dispose()
    documented = _doc_sections()
    missing = {
        name: sorted(cols - documented.get(name, set()))
        for name, cols in in_db.items()
        if name not in documented or cols - documented[name]
    }
    assert {} == missing


def _doc_examples() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_document_examples_run(engine: Engine) -> None:
    """Every example query in docs/inspectors.md runs on a database with data."""
    examples = _doc_examples()
    assert len(examples) >= len(VIEWS)
    with engine.connect() as conn:
        for sql in examples:
            conn.execute(text(sql.strip().rstrip(";"))).all()


def _migration() -> ModuleType:
    path = REPO / "alembic" / "versions" / "0002_inspector_views.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_is_a_frozen_copy_of_the_views(dialect: str) -> None:
    """Changing metrics/views.py without a migration that re-creates the view fails here."""
    frozen = getattr(_migration(), dialect.upper())
    assert {name: create_sql(name, dialect) for name in VIEWS} == {
        name: sql.strip() for name, sql in frozen.items()
    }


def test_downgrade_drops_the_views(db_url: str) -> None:
    """Downgrading to 0001 removes every view and leaves the tables."""
    from alembic import command

    engine = make_engine(db_url)
    with engine.begin() as conn:
        cfg = alembic_config(db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    insp = inspect(engine)
    assert [] == insp.get_view_names()
    assert "messages" in insp.get_table_names()
    engine.dispose()


@pytest.mark.postgres
def test_views_on_postgresql(pg_url: str) -> None:
    """On PostgreSQL every view answers with its columns, and the opted-out name stays hidden."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        populate(conn)
    for view in VIEWS:
        columns, rows = _rows(engine, view)
        assert list(VIEWS[view].columns) == columns
        assert rows
        assert not any(OPTED_OUT_NAME in str(v) for r in rows for v in r.values())
    with engine.connect() as conn:
        for sql in _doc_examples():
            conn.execute(text(sql.strip().rstrip(";"))).all()
    engine.dispose()
