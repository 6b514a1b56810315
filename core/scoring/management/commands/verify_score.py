"""Verify a score's EIP-712 attestation signature: `manage.py verify_score <score id>`.

Recomputes the attestation from the stored score, recovers the signer with eth-account and
compares it with the scorer (the configured one, or --scorer). --onchain also asks the
ScoreRegistry whether that signer holds SCORER_ROLE and what it stores for the borrower.
Exit status 0 when valid, 1 when not.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from web3 import Web3

from core.scoring.attestations import verify_score
from core.scoring.models import Score
from core.scoring.selectors import score_latest
from core.users.selectors import user_get_by_telegram_id
from onchain.attestations import ScoreRegistryClient


class Command(BaseCommand):
    help = "Verify the signature of a score attestation."

    def add_arguments(self, parser) -> None:
        parser.add_argument("score_id", nargs="?", type=int)
        parser.add_argument("--telegram-id", type=int, help="the borrower's latest score")
        parser.add_argument("--scorer", default="", help="address that must have signed")
        parser.add_argument("--onchain", action="store_true",
                            help="also check SCORER_ROLE and the stored hash on the registry")

    def handle(self, *args, **options) -> None:
        score = self._score(options)
        report = verify_score(score=score, expected_scorer=options["scorer"])
        if options["onchain"] and score.signature:
            report["onchain"] = self._onchain(score, report["signer"])
            report["ok"] = report["ok"] and report["onchain"]["signer_is_scorer"]
        self.stdout.write(json.dumps(report, indent=2, default=str))
        if not report["ok"]:
            raise SystemExit(1)

    def _score(self, options) -> Score:
        if options["score_id"] is not None:
            score = Score.objects.filter(pk=options["score_id"]).first()
        elif options["telegram_id"] is not None:
            user = user_get_by_telegram_id(telegram_id=options["telegram_id"])
            score = score_latest(borrower_id=user.pk) if user else None
        else:
            raise CommandError("give a score id or --telegram-id")
        if score is None:
            raise CommandError("no such score")
        return score

    def _onchain(self, score: Score, signer: str) -> dict:
        w3 = Web3(Web3.HTTPProvider(settings.RPC_URL, request_kwargs={"timeout": 10}))
        registry = ScoreRegistryClient(w3, score.registry_address)
        stored = registry.attestation_of(score.wallet_address)
        return {"signer_is_scorer": registry.is_scorer(signer),
                "stored_hash": "0x" + stored["attestation_hash"].hex(),
                "stored_is_this_score": "0x" + stored["attestation_hash"].hex()
                == score.attestation_hash}
