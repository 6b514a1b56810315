"""python manage.py seed_demo: demo people and loans for the embedded default (idempotent)."""

import os

from django.core.management.base import BaseCommand

from core.devtools.demo import seed_demo


class Command(BaseCommand):
    help = "Create demo users, loans and ledger entries once (development only)."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "lendgram-demo")
        if seed_demo(admin_password=password):
            self.stdout.write(self.style.SUCCESS(
                f"Demo data created. Django admin: user 'admin', password '{password}'."))
        else:
            self.stdout.write("Demo data already present.")
