"""Logging for every jianfu process: levels by verbosity, and secrets redacted from every record.

Redaction is a log-record factory, not a handler filter: a factory sees every
record of every logger before any handler does, so it also covers handlers
created later (python-wechaty installs its own stderr handlers when it is
imported), handlers that ``logging.basicConfig(force=True)`` puts in place, and
every verbosity. It removes

* every value registered with ``register_secret`` (adapters register their
  tokens; ``bot.events`` re-exports the function for them), and the values of
  environment variables whose names say they hold a secret (``*TOKEN*``,
  ``*SECRET*``, ``*PASSWORD*``, ``*API_KEY*``);
* whatever a peer offers, which cannot be known in advance (a near-miss wrong
  token is as sensitive as the right one): the value of any
  ``Authorization``/``Cookie`` header or of any ``*token*``/``*secret*``/
  ``*password*``/``*signature*`` field or query parameter, and any
  ``Bearer <credential>``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["OWN_LOGGERS", "configure_logging", "redact", "register_secret"]

MASK = "***"
# jianfu's own code; everything else is a third-party library.
OWN_LOGGERS = ("bot", "metrics")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_SECRET_WORDS = r"token|secret|password|passwd|api[_-]?key|signature"
# A credential-bearing key, a ':' or '=' (quotes allowed, as in dict reprs and JSON),
# an optional auth scheme, then the credential itself.
_PAIR = re.compile(
    rf"(?i)(?<![\w-])((?:proxy-)?authorization|set-cookie|cookie|[\w-]*(?:{_SECRET_WORDS})[\w-]*)"
    r"(['\"]?\s*[:=]\s*['\"]?)"
    r"((?:bearer|token|basic|digest)\s+)?"
    r"([^\s'\",;&#)\]}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)([^\s'\",;&#)\]}]+)")
_SECRET_ENV = re.compile(rf"(?i){_SECRET_WORDS}")
_MIN_ENV_SECRET = 8  # USE_TOKEN=1 is a switch, not a secret to hunt for in every line

_lock = threading.Lock()
_registered: set[str] = set()
_secrets: tuple[str, ...] = ()  # longest first, so a secret containing another goes whole
_previous_factory: Callable[..., logging.LogRecord] | None = None


def register_secret(secret: str | None) -> None:
    """Never let ``secret`` (or its URL-encoded forms) appear in any log output."""
    with _lock:
        if secret and secret.strip():
            for form in (secret, secret.strip(), quote(secret, safe=""), quote_plus(secret)):
                _registered.add(form)
        _refresh()
    _install()


def redact(text: str) -> str:
    """``text`` with every known secret and every offered credential replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PAIR.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m[1]}{MASK}", text)


def configure_logging(verbosity: int, *, narrated: bool = False) -> None:
    """Set up the root handler and levels for a jianfu command.

    0: jianfu's own modules at INFO (start-up, digests sent, retention purges),
    libraries at WARNING; 1 (``-v``): jianfu's own modules at DEBUG; 2 (``-vv``):
    everything at DEBUG, python-wechaty included (SQLAlchemy keeps its own WARNING:
    its debug output is every statement with its parameters, i.e. the recorded data
    itself). ``narrated`` commands (the demo) print their own account of what
    happens, so at 0 they show warnings only.
    """
    register_secret(None)  # installs redaction and reads secrets from the environment
    level = min(max(verbosity, 0), 2)
    own = (logging.WARNING if narrated else logging.INFO, logging.DEBUG, logging.DEBUG)[level]
    libraries = (logging.WARNING, logging.WARNING, logging.DEBUG)[level]
    logging.basicConfig(level=libraries, format=FORMAT)
    logging.getLogger().setLevel(libraries)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    if level >= 2:
        # python-wechaty reads its level from WECHATY_LOG when imported; "verbose" is
        # the most it offers (INFO). An operator's own setting wins.
        os.environ.setdefault("WECHATY_LOG", "verbose")


def _refresh() -> None:
    global _secrets
    found = set(_registered)
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and len(value.strip()) >= _MIN_ENV_SECRET:
            found.update((value, value.strip()))
    _secrets = tuple(sorted(found, key=len, reverse=True))


def _install() -> None:
    global _previous_factory
    with _lock:
        current = logging.getLogRecordFactory()
        if current is _redacting_factory:
            return
        _previous_factory = current
        logging.setLogRecordFactory(_redacting_factory)


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    _redact_record(record)
    return record


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        return  # a bad format string: logging reports it when a handler formats the record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        clean = redact(text)
        if clean != text:
            record.exc_text = clean  # formatters use a cached exc_text as it is
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
