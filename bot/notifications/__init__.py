"""How outbox messages read, in each recipient's language.

The registry lives in `registry`; each area module registers the templates of its messages
when imported here (one module per area, so journeys do not share one long file).
"""

from bot.notifications import loans, schedule  # noqa: F401  (registers their templates)
from bot.notifications.registry import TEMPLATES, Rendered, UnknownTemplate, render, template

__all__ = ["TEMPLATES", "Rendered", "UnknownTemplate", "render", "template"]
