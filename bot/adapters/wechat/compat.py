"""The one place that imports python-wechaty: Python 3.11 workaround, environment and log hygiene.

python-wechaty 0.10.7 is dormant. Importing it as-is fails or misbehaves in
ways that every caller would otherwise have to know about, so everything in
this project imports wechaty names from here and nowhere else.

Pitfalls handled here (see DOMAIN.md section 5):

* ``WechatyOptions`` has a dataclass field defaulting to a ``PuppetOptions``
  instance. ``PuppetOptions`` is an unfrozen dataclass with ``eq=True`` so its
  ``__hash__`` is None, which Python >= 3.11 reports as a "mutable default"
  ValueError at import time (python-wechaty issues #385, #422). Giving the
  class an identity hash before ``wechaty`` is imported is enough. The shared
  default instance is still mutated by ``Wechaty.__init__``; callers must
  always pass a fresh ``PuppetOptions()``.
* Importing ``wechaty`` evaluates ``config.cache_dir`` in class bodies, which
  creates ``./.wechaty`` in the current directory unless ``CACHE_DIR`` is set,
  so we point ``CACHE_DIR`` at a per-user temp directory before importing.
  (``wechaty_puppet.config`` creates ``./.wechaty`` unconditionally; nothing
  we import loads it.)
* python-wechaty's loggers (``get_logger``) install their own stderr handler,
  do not propagate, set their level from ``WECHATY_LOG`` at import and log at
  INFO, including message text (privacy). We default ``WECHATY_LOG`` to
  ``warn``. Tokens (``PuppetService.__init__`` logs the service token; hpack
  under grpclib logs the ``:authority`` header, which is the token, at DEBUG)
  are redacted process-wide by ``bot.logging_setup``; the adapter registers its
  token there.
* Two of its warnings fire in normal operation and say nothing an operator can
  act on: "set payload more than once" (``Accessory``, whenever a room or
  contact is refreshed) and "mimeType will be deprecated" (``FileBox``, on every
  picture sent). Exactly those two messages are dropped, after the import that
  creates the loggers; every other wechaty warning still shows.
* Importing ``telnetlib`` (used to "ping" the endpoint) emits a
  DeprecationWarning on 3.11/3.12 and ``stringcase`` (used by betterproto)
  has an invalid escape that compiles with a SyntaxWarning; we silence those
  two categories during the import only.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

# (logger, message text) of python-wechaty warnings that are harmless and frequent.
_KNOWN_NOISE = (
    ("Accessory", "set payload more than once"),
    ("FileBox", "mimeType will be deprecated after Dec, 2022"),
)


def default_cache_dir() -> Path:
    """Where python-wechaty may write its cache when the operator gives no directory."""
    return Path(tempfile.gettempdir()) / f"jianfu-wechaty-{os.getuid()}"


def use_cache_dir(path: Path) -> None:
    """Point python-wechaty's lazily read ``CACHE_DIR`` at ``path`` (created if missing)."""
    path.mkdir(parents=True, exist_ok=True)
    os.environ["CACHE_DIR"] = str(path)


class _DropMessage(logging.Filter):
    """Drop records whose message contains ``text``; let every other record through."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _prepare_environment() -> None:
    if "CACHE_DIR" not in os.environ:
        use_cache_dir(default_cache_dir())
    os.environ.setdefault("WECHATY_LOG", "warn")
    # Importing the patched class first is what makes ``wechaty`` importable.
    from wechaty_puppet.schemas.puppet import PuppetOptions as _PuppetOptions

    if _PuppetOptions.__hash__ is None:
        _PuppetOptions.__hash__ = object.__hash__


with warnings.catch_warnings():
    # Only for the import: these old packages trip warnings newer Pythons raise.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    _prepare_environment()
    from grpclib.const import Status as GrpcStatus
    from grpclib.exceptions import GRPCError, StreamTerminatedError
    from wechaty import Wechaty, WechatyOptions
    from wechaty.user import Contact, Message, Room
    from wechaty.utils.async_helper import SingleIdContainer
    from wechaty_puppet import (
        EventLoginPayload,
        EventMessagePayload,
        EventRoomInvitePayload,
        EventRoomJoinPayload,
        EventRoomLeavePayload,
        EventRoomTopicPayload,
        FileBox,
        WechatyPuppetError,
    )
    from wechaty_puppet.schemas.puppet import PuppetOptions
    from wechaty_puppet_service import PuppetService as WechatyPuppetService
    from wechaty_puppet_service.utils import extract_host_and_port

for _logger_name, _text in _KNOWN_NOISE:
    # A logger filter runs before any handler, wechaty's own stderr handler included.
    logging.getLogger(_logger_name).addFilter(_DropMessage(_text))


def reset_wechaty_caches() -> None:
    """Forget python-wechaty's process-wide state.

    ``Room._pool`` and ``Contact._pool`` are class-level dicts shared by every
    ``Wechaty`` instance (the per-bot subclasses made in ``init_puppet`` inherit
    them), so objects bound to an old, closed puppet survive a reconnect or a
    second bot. ``SingleIdContainer`` drops any message id it has seen before,
    process-wide. Call this before each new connection and between tests.
    """
    Room._pool.clear()
    Contact._pool.clear()
    SingleIdContainer._instance = None


__all__ = [
    "Contact",
    "EventLoginPayload",
    "EventMessagePayload",
    "EventRoomInvitePayload",
    "EventRoomJoinPayload",
    "EventRoomLeavePayload",
    "EventRoomTopicPayload",
    "FileBox",
    "GRPCError",
    "GrpcStatus",
    "Message",
    "PuppetOptions",
    "Room",
    "SingleIdContainer",
    "StreamTerminatedError",
    "Wechaty",
    "WechatyOptions",
    "WechatyPuppetError",
    "WechatyPuppetService",
    "default_cache_dir",
    "extract_host_and_port",
    "reset_wechaty_caches",
    "use_cache_dir",
]
