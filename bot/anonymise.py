"""Pseudonyms for opted-out accounts, and scrubbing their names and ids out of free text.

An opted-out account must still be recognised when it posts again (so it keeps
counting only anonymously), yet its platform id must not be readable from the
database. The stored pseudonym is a slow salted hash (scrypt) of platform and
id: the salt is random per database, so nothing can be precomputed, and the
cost makes trying every QQ number impractical. Testing one suspected id stays
possible for whoever holds the database file; that residual risk is stated in
docs/inspectors.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from sqlalchemy import Connection, select

from metrics.models import PSEUDONYM_PREFIX, PseudonymSalt

OPTED_OUT_NAME = "已退出成员"
_MENTION = re.compile(r"@[^\s\u2005@]+")


def database_salt(conn: Connection) -> str:
    """The database's pseudonym salt (created by migration 0003)."""
    return str(conn.execute(select(PseudonymSalt.salt).order_by(PseudonymSalt.id)).scalar_one())


@lru_cache(maxsize=4096)
def pseudonym(salt: str, platform: str, external_id: str) -> str:
    """The irreversible stand-in stored for an opted-out account's id."""
    # n = 2**13, r = 8: 8 MiB and some 15-30 ms, paid once per account and process
    # (lookups try the plain id first, and results are cached).
    digest = hashlib.scrypt(
        f"{platform}:{external_id}".encode(), salt=bytes.fromhex(salt), n=2**13, r=8, p=1, dklen=16
    )
    return PSEUDONYM_PREFIX + digest.hex()


def is_pseudonym(external_id: str) -> bool:
    """Whether a stored id is a pseudonym (its account opted out)."""
    return external_id.startswith(PSEUDONYM_PREFIX)


def scrubber(terms: Iterable[str]) -> Callable[[str], str]:
    """A function that replaces every term in a text by ``已退出成员`` in one pass.

    Longer terms win over terms they contain; the placeholder itself is never
    rewritten, so scrubbing twice (or for a person named "成员") changes nothing more.
    """
    wanted = sorted({t for t in terms if t and t != OPTED_OUT_NAME}, key=len, reverse=True)
    if not wanted:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(t) for t in [OPTED_OUT_NAME, *wanted]))
    return lambda text: pattern.sub(OPTED_OUT_NAME, text)


def scrub_mentions(text: str, ids: Iterable[str]) -> str:
    """A new message that @-mentions opted-out accounts, without their names or ids.

    Their names are no longer known, so every @-mention in the text is masked
    (other members' @-names in the same message go too: safe, and rare).
    """
    text = _MENTION.sub("@" + OPTED_OUT_NAME, text)
    return scrubber(ids)(text)
