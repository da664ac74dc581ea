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
  do not propagate, and log at INFO, including message text (privacy) and, in
  ``PuppetService.__init__``, the service token. We default ``WECHATY_LOG`` to
  ``warn`` and add a filter that redacts every token we know of. hpack (under
  grpclib) logs every header at DEBUG, the ``:authority`` token included, so
  its loggers get the same filter.
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

_TOKEN_ENV_NAMES = ("WECHATY_PUPPET_SERVICE_TOKEN", "TOKEN", "token")
# Loggers that can see the token: python-wechaty's, and hpack's, whose DEBUG
# output dumps every HTTP/2 header including ``:authority`` (the token).
_SECRET_BEARING_LOGGERS = (
    "PuppetService",
    "Wechaty",
    "WechatyPuppetServiceConfig",
    "hpack.hpack",
    "hpack.table",
    "grpclib.protocol",
    "grpclib.server",
)
_known_secrets: set[str] = set()


def default_cache_dir() -> Path:
    """Where python-wechaty may write its cache when the operator gives no directory."""
    return Path(tempfile.gettempdir()) / f"jianfu-wechaty-{os.getuid()}"


def use_cache_dir(path: Path) -> None:
    """Point python-wechaty's lazily read ``CACHE_DIR`` at ``path`` (created if missing)."""
    path.mkdir(parents=True, exist_ok=True)
    os.environ["CACHE_DIR"] = str(path)


class _RedactSecrets(logging.Filter):
    """Replace known tokens in wechaty log records with ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = set(_known_secrets)
        secrets.update(v for name in _TOKEN_ENV_NAMES if (v := os.environ.get(name)))
        if not secrets:
            return True
        text = record.getMessage()
        for secret in secrets:
            text = text.replace(secret, "***")
        record.msg, record.args = text, None
        return True


def register_secret(secret: str) -> None:
    """Make sure ``secret`` never appears in python-wechaty's own log output."""
    if secret:
        _known_secrets.add(secret)


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

for _name in _SECRET_BEARING_LOGGERS:
    logging.getLogger(_name).addFilter(_RedactSecrets())


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
    "register_secret",
    "reset_wechaty_caches",
    "use_cache_dir",
]
