"""The spill file: buffered records the database could not take, kept for the next start.

When the database cannot be written at shutdown (disk full, read-only, locked),
the recorder writes its buffer here as JSON lines instead of losing it, and the
next ``jianfu run`` replays the file (message ids are unique, so a replay twice
stores nothing twice). The file sits next to the database, readable by its owner
only; when that disk is the full one, a per-user folder in the system temporary
directory is tried as well.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.records import MessageRecord

log = logging.getLogger(__name__)

_TIME_FIELDS = ("sent_at", "deadline_at")
_TUPLE_FIELDS = ("mention_ids", "labels")


def to_json(record: MessageRecord) -> str:
    """One record as a JSON line (times in ISO form with their offset)."""
    data = dataclasses.asdict(record)
    for key in _TIME_FIELDS:
        if data[key] is not None:
            data[key] = data[key].isoformat()
    # ensure_ascii: a lone surrogate survives as an escape and is quarantined on replay.
    return json.dumps(data, ensure_ascii=True)


def from_json(line: str) -> MessageRecord:
    """A record written by ``to_json``; raises ValueError when the line is not one."""
    data: dict[str, Any] = json.loads(line)
    for key in _TIME_FIELDS:
        if data.get(key) is not None:
            data[key] = datetime.fromisoformat(data[key])
    for key in _TUPLE_FIELDS:
        data[key] = tuple(data.get(key) or ())
    try:
        return MessageRecord(**data)
    except TypeError as e:
        raise ValueError(f"not a message record: {e}") from None


class SpillFile:
    """Where spilled records go (``primary``, else a fallback) and where replays read."""

    def __init__(self, primary: Path, fallback_dir: Path | None = None) -> None:
        self.primary = primary
        digest = hashlib.sha256(str(primary.resolve()).encode()).hexdigest()[:12]
        folder = fallback_dir or Path(tempfile.gettempdir()) / f"jianfu-{os.getuid()}"
        self.fallback = folder / f"{primary.name}.{digest}"

    @classmethod
    def next_to(cls, database: Path) -> SpillFile:
        """The spill file of a SQLite database file: ``<db>.spill.jsonl``."""
        return cls(database.with_name(database.name + ".spill.jsonl"))

    def paths(self) -> list[Path]:
        """Spill files that exist now."""
        return [p for p in (self.primary, self.fallback) if p.exists()]

    def write(self, records: Iterable[MessageRecord]) -> Path:
        """Append ``records``; returns the file written. Raises OSError if no place takes them."""
        lines = "".join(to_json(r) + "\n" for r in records).encode("utf-8")
        errors = []
        for path in (self.primary, self.fallback):
            try:
                _append_private(path, lines)
                return path
            except OSError as e:
                errors.append(f"{path}: {e.strerror or e}")
        raise OSError("; ".join(errors))

    def read(self) -> list[MessageRecord]:
        """Every record in the spill files; unreadable lines (a torn last line) are skipped."""
        records = []
        for path in self.paths():
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    records.append(from_json(line))
                except (ValueError, KeyError) as e:
                    log.warning("%s line %d is not a spilled record, skipped: %s", path, n, e)
        return records

    def clear(self) -> None:
        """Remove the spill files (after their records are in the database)."""
        for path in self.paths():
            path.unlink()


def _append_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_NOFOLLOW: the fallback lives in a shared temporary directory.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    try:
        if os.fstat(fd).st_uid != os.getuid():
            raise PermissionError(f"{path} belongs to another user")
        os.fchmod(fd, 0o600)
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, start)  # no torn line for the next append to run into
            if start == 0:
                path.unlink()  # an empty file we just made would only mislead
            raise
    finally:
        os.close(fd)
