"""The digest picture: a decodable PNG whose Chinese labels are real glyphs, not tofu boxes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from sqlalchemy import Engine

from metrics.calendar import DEFAULT_SCHEDULE
from metrics.chart import CHART_TEXTS, cjk_font_path, ping_grid, render_week_chart
from metrics.db import make_engine
from tests.inspector_sample import PEOPLE, WEEK, populate


@pytest.fixture
def engine(db_url: str) -> Engine:
    eng = make_engine(db_url)
    with eng.begin() as conn:
        populate(conn)
    return eng


def _draw(label: str, font: Path | None) -> np.ndarray:
    """Pixels of ``label`` drawn by matplotlib with the given font file (default font if None)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.font_manager import FontProperties

    fig = plt.figure(figsize=(2, 1), dpi=100)
    try:
        props = FontProperties(fname=str(font)) if font else FontProperties(family="DejaVu Sans")
        fig.text(0.1, 0.3, label, fontproperties=props, fontsize=28)
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba()).copy()  # type: ignore[attr-defined]
    finally:
        plt.close(fig)


def test_png_decodes_with_sensible_size(engine: Engine, tmp_path: Path) -> None:
    """render_week_chart writes an 800×800 PNG that Pillow decodes and that is not blank.

    Drawing any label without a glyph would warn, and warnings are errors here.
    """
    with engine.connect() as conn:
        path = render_week_chart(conn, WEEK, DEFAULT_SCHEDULE, None, tmp_path / "w47.png")
    assert tmp_path / "w47.png" == path
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert "PNG" == img.format
        assert (800, 800) == img.size
        assert len(img.convert("L").getcolors(maxcolors=1 << 16) or []) > 10


def test_week_without_data_still_renders(engine: Engine, tmp_path: Path) -> None:
    """A quiet week gives a picture saying so rather than an error."""
    with engine.connect() as conn:
        path = render_week_chart(conn, "2026-W30", DEFAULT_SCHEDULE, "镇党政办", tmp_path / "q.png")
    with Image.open(path) as img:
        assert (800, 800) == img.size


def test_ping_grid_counts_after_hours_mentions_by_local_hour(engine: Engine) -> None:
    """After-hours @ messages land in their local weekday and hour cells."""
    with engine.connect() as conn:
        grid = ping_grid(conn, WEEK, "Asia/Shanghai")
    assert 5 == sum(map(sum, grid))
    assert 1 == grid[0][20]  # Monday 20:30, @所有人
    assert 1 == grid[2][23]  # Wednesday 23:05
    assert 1 == grid[5][10]  # Saturday 10:00 (weekend band)
    assert 0 == grid[0][9]  # working-time chatter is not counted


def test_font_covers_every_label_character() -> None:
    """The bundled CJK font maps every character the chart draws, fixed texts and names."""
    cmap = TTFont(str(cjk_font_path()), fontNumber=0).getBestCmap()
    names = [p[0] for p in PEOPLE]
    chars = {c for label in (*CHART_TEXTS, *names) for c in label if not c.isspace()}
    assert set() == {c for c in chars if ord(c) not in cmap}


def test_labels_render_as_glyphs_not_tofu() -> None:
    """A label drawn with the bundled font differs from the notdef box and from a non-CJK font."""
    font = cjk_font_path()
    label = "周一"
    glyphs = _draw(label, font)
    with warnings.catch_warnings():
        # Both are expected to fall back to the notdef box and say so.
        warnings.simplefilter("ignore")
        notdef = _draw("\ue000\ue001", font)  # private-use code points: not in the font
        tofu = _draw(label, None)
    assert not np.array_equal(glyphs, notdef)
    assert not np.array_equal(glyphs, tofu)


def test_missing_glyph_would_fail_the_chart_tests() -> None:
    """Matplotlib warns on a missing glyph, so (warnings being errors) a tofu chart fails above."""
    with pytest.warns(UserWarning, match="missing from font"):
        _draw("周一", None)
