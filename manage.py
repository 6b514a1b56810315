#!/usr/bin/env python
"""Django's command-line utility for Lendgram."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["rundev"]:
        # Only the development run command turns debug on (and with it plain http, the dev
        # wallet, static files served by Django); its web, bot and worker inherit it.
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
