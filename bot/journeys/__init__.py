"""The journey registry: each module builds the handlers of one journey with `build_handlers()`.

A journey plugs in by being listed in JOURNEY_MODULES: its handlers are registered in order
(before the catch-all fallback), its conversation steps join the step router, and its
commands join the bot's command menu in every language.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from django.utils.functional import Promise
from telegram.ext import BaseHandler

from bot.conversation import Callback

JOURNEY_MODULES = (
    "bot.journeys.onboarding",
    "bot.journeys.platform",
    "bot.journeys.calc",
    "bot.journeys.borrow",
    "bot.journeys.verify",
    "bot.journeys.loans",
    "bot.journeys.lend",
    "bot.journeys.portfolio",
    "bot.journeys.pool",
    "bot.journeys.preferences",
    "bot.journeys.admin",
    "bot.journeys.account",
    "bot.journeys.privacy",
)


@dataclass
class Journey:
    name: str
    handlers: list[BaseHandler] = field(default_factory=list)
    # step name -> callback for a message sent while the person is at that step
    steps: dict[str, Callback] = field(default_factory=dict)
    # (command, lazily translated description) for the command menu
    commands: list[tuple[str, Promise]] = field(default_factory=list)


def load_journeys(modules: tuple[str, ...] = JOURNEY_MODULES) -> list[Journey]:
    journeys = [importlib.import_module(name).build_handlers() for name in modules]
    steps: dict[str, str] = {}
    for journey in journeys:
        for step in journey.steps:
            if step in steps:
                raise ValueError(f"step {step!r} belongs to {steps[step]} and {journey.name}")
            steps[step] = journey.name
    return journeys
