"""What inline buttons carry: `<version>|<kind>|<arg>|...`, at most 64 bytes (Telegram's limit).

callback_data comes back from the client and anyone can forge it, so it only *names* things:
the handler looks the object up, checks the person may act on it, and checks the button's
nonce against the conversation (an older message's button is stale). Nothing here grants
anything. The version lets a release change the layout: buttons from an older layout get a
clear "out of date" answer instead of being misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64
_TOKEN = re.compile(r"^[A-Za-z0-9_.:\-]{1,40}$")


class CallbackDataError(ValueError):
    """Raised when the bot itself builds data that would not round-trip."""


@dataclass(frozen=True)
class Button:
    kind: str
    args: tuple[str, ...]

    def arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None


def encode(kind: str, *args: str | int) -> str:
    parts = [VERSION, kind, *(str(arg) for arg in args)]
    for part in parts[1:]:
        if not _TOKEN.match(part):
            raise CallbackDataError(f"callback part {part!r} is not a plain token")
    data = "|".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise CallbackDataError(f"callback_data {data!r} is longer than {MAX_BYTES} bytes")
    return data


def decode(data: str | None) -> Button | None:
    """The button a press names, or None for anything this release did not make."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split("|")
    if len(parts) < 2 or parts[0] != VERSION or not all(_TOKEN.match(p) for p in parts[1:]):
        return None
    return Button(kind=parts[1], args=tuple(parts[2:]))


def pattern(kind: str) -> re.Pattern:
    """A CallbackQueryHandler pattern for one kind of button of the current version."""
    return re.compile(rf"^{VERSION}\|{re.escape(kind)}(\||$)")
