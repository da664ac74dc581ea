"""Every place an inspector, a unit head or a file reader can see data, searched for given terms.

The database file and its write-ahead log byte by byte, every Datasette page and
JSON endpoint (tables, views, each row, canned queries), the Excel and CSV
exports, and the digest files saved under ``out_dir``.
"""

from __future__ import annotations

import html
import json
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

from click.testing import CliRunner

from bot.cli import main
from metrics.inspect import CANNED_QUERIES, build_datasette


def forms(term: str) -> list[bytes]:
    """The ways ``term`` can be written out: UTF-8, JSON-escaped, HTML-escaped, URL-encoded."""
    texts = {term, json.dumps(term)[1:-1], html.escape(term), quote(term), quote_plus(term)}
    return sorted(t.encode() for t in texts)


def hits(name: str, data: bytes, terms: list[str]) -> list[str]:
    """``name: term`` for each term found in ``data``."""
    return [f"{name}: {t}" for t in terms if any(f in data for f in forms(t))]


def database_files(db: Path, terms: list[str]) -> list[str]:
    found: list[str] = []
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            found += hits(path.name, path.read_bytes(), terms)
    return found


async def datasette_pages(db: Path, week: str, terms: list[str]) -> tuple[int, list[str]]:
    """(pages fetched, hits) over the whole read-only Datasette of ``db``."""
    ds = build_datasette(db)
    name = db.stem
    urls = ["/", f"/{name}", f"/{name}.json", "/-/metadata.json"]
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        relations = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for relation in relations:
            urls += [f"/{name}/{relation}?_size=max", f"/{name}/{relation}.json?_size=max"]
            keys = [
                r[1]
                for r in sorted(
                    conn.execute(f"PRAGMA table_info('{relation}')"), key=lambda r: r[5]
                )
                if r[5]
            ]
            if not keys:
                continue  # a view: no row pages
            for row in conn.execute(f"SELECT {', '.join(keys)} FROM '{relation}'"):
                pk = ",".join(quote(str(v)) for v in row)
                urls += [f"/{name}/{relation}/{pk}", f"/{name}/{relation}/{pk}.json"]
    finally:
        conn.close()
    for query in CANNED_QUERIES:
        urls += [f"/{name}/{query}?week={week}", f"/{name}/{query}.json?week={week}"]
    found: list[str] = []
    for url in urls:
        response = await ds.client.get(url)
        assert 200 == response.status_code, url
        found += hits(url, response.content, terms)
    return len(urls), found


def exports(db: Path, week: str, out: Path, terms: list[str]) -> list[str]:
    """Run `jianfu export` as xlsx and csv and search what it wrote (xlsx members unzipped)."""
    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    for fmt, target in (("xlsx", out / "load.xlsx"), ("csv", out / "load")):
        result = runner.invoke(
            main,
            ["export", "--week", week, "--format", fmt, "--out", str(target), "--db", str(db)],
        )
        assert 0 == result.exit_code, result.output
    found: list[str] = []
    for path in sorted(out.iterdir()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    found += hits(f"{path.name}/{member}", z.read(member), terms)
        else:
            found += hits(path.name, path.read_bytes(), terms)
    return found


def saved_files(folder: Path, terms: list[str]) -> tuple[int, list[str]]:
    """(files searched, hits) under a digests out_dir."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    found: list[str] = []
    for path in files:
        found += hits(str(path.relative_to(folder)), path.read_bytes(), terms)
    return len(files), found
