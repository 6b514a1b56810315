"""The one rule for text people give us (profile names from Telegram, typed reasons), applied
where it is stored so every face (bot, pages, admin, the API later) shows the same clean text.

Removed: C0 and C1 control characters and DEL (NUL cannot even be stored in PostgreSQL; the
others move cursors or hide text in terminals and logs), and the bidirectional controls that
reorder what follows them (U+202E makes "gpj.exe" read "exe.jpg"; embeddings, isolates and the
direction marks U+200E/U+200F/U+061C). Kept: the zero-width joiner and non-joiner (Persian
and Hindi need them) and, in multi-line text, newlines and tabs. Escaping stays the pages'
job: Django's autoescape is on everywhere.
"""

from __future__ import annotations

import re

_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")
_UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")


def plain_text(value: str | None, *, max_length: int, multiline: bool = False) -> str:
    """`value` without control and bidirectional-control characters, stripped and cut to
    `max_length` characters."""
    pattern = _UNSAFE_MULTILINE if multiline else _UNSAFE
    return pattern.sub("", value or "").strip()[:max_length].strip()

