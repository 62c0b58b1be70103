"""Text keys for search. What a user typed is always stored as typed; these keys only serve
matching, so that a name typed in traditional characters finds the same person in simplified
ones and the reverse (陳麗華 = 陈丽华)."""

from __future__ import annotations

from functools import lru_cache

from opencc import OpenCC


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def name_key(value: str) -> str:
    """The search key of a person's name: simplified characters, no spaces (a clerk may type
    “陈 丽华”), Latin letters case-folded."""
    return _name_key("".join((value or "").split()))


@lru_cache(maxsize=65536)  # names repeat (bulk loads, the same person at the desk)
def _name_key(compact: str) -> str:
    return _t2s().convert(compact).casefold() if compact else ""
