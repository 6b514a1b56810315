"""The template registry: one renderer per outbox template key.

core queues `OutboxMessage(template_key, params)`; the bot renders it in the recipient's
language. Each area module of this package registers its keys with `@template("key")`. An
unknown key is a permanent failure, recorded on the message, never a crash of delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup


@dataclass(frozen=True)
class Rendered:
    text: str
    # Buttons under the message: URL buttons, or callback buttons whose handler re-checks
    # everything (a notification's button carries no authority either).
    markup: InlineKeyboardMarkup | None = None


Renderer = Callable[[dict, str], Rendered]
TEMPLATES: dict[str, Renderer] = {}


class UnknownTemplate(KeyError):
    pass


def template(key: str) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        if key in TEMPLATES:
            raise ValueError(f"template {key!r} is registered twice")
        TEMPLATES[key] = renderer
        return renderer

    return register


def render(template_key: str, params: dict, language: str) -> Rendered:
    """Render in `language`; the caller has activated it for gettext."""
    renderer = TEMPLATES.get(template_key)
    if renderer is None:
        raise UnknownTemplate(template_key)
    return renderer(params, language)
