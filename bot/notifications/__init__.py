"""How outbox messages read, in each recipient's language.

The registry lives in `registry`; each area module registers the templates of its messages
when imported here (one module per area, so journeys do not share one long file).
"""

# Importing an area module registers its templates.
from bot.notifications import (  # noqa: F401
    admin,
    chain,
    kyc,
    lend,
    loans,
    onboarding,
    schedule,
    scoring,
    signing,
)
from bot.notifications.registry import TEMPLATES, Rendered, UnknownTemplate, render, template

__all__ = ["TEMPLATES", "Rendered", "UnknownTemplate", "render", "template"]
