"""Digest copies saved outside the database (``[digest] out_dir``), kept true to opt-outs."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.anonymise import scrubber
from bot.config import Config
from bot.store import Forgotten
from metrics.chart import CHART_PEOPLE_KEY, CHART_UNIT_KEY, render_week_chart

log = logging.getLogger(__name__)


async def forget_in_saved_digests(engine: AsyncEngine, config: Config, forgotten: Forgotten) -> int:
    """Scrub an opted-out person from saved digest texts and redraw the charts showing them.

    The stored copies in the database were scrubbed by ``bot.store.forget_person``;
    these are the files under ``out_dir/WEEK/``. Returns how many files changed.
    """
    root = config.digest.out_dir
    if not root.is_dir():
        return 0
    changed = await asyncio.to_thread(_scrub_texts, root, forgotten.terms)
    for png in sorted(root.glob("*/*.png")):
        unit = _shows(png, forgotten.person_id)
        if unit is None:
            continue
        week = png.parent.name
        try:
            async with engine.connect() as conn:
                await conn.run_sync(
                    render_week_chart, week, config.schedule_for(unit or None), unit or None, png
                )
        except Exception:
            # A chart that cannot be redrawn must not keep showing the person.
            log.exception("redrawing %s failed; removing it", png)
            png.unlink(missing_ok=True)
        changed += 1
    return changed


def _scrub_texts(root: Path, terms: tuple[str, ...]) -> int:
    scrub = scrubber(terms)
    changed = 0
    for path in sorted(root.glob("*/*.txt")):
        text = path.read_text(encoding="utf-8")
        clean = scrub(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed += 1
    return changed


def _shows(png: Path, person_id: int) -> str | None:
    """The chart's unit if it draws ``person_id``, else None."""
    try:
        with Image.open(png) as image:
            fields = dict(getattr(image, "text", {}))
    except OSError:
        return None
    people = {p for p in str(fields.get(CHART_PEOPLE_KEY, "")).split(",") if p}
    return str(fields.get(CHART_UNIT_KEY, "")) if str(person_id) in people else None
