"""Score attestations: signed inline or by the signing job, verified by the command, and posted
to a real ScoreRegistry on anvil through the serial nonce manager."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from web3 import Web3

from core.loans import services as loans
from core.scoring import applications, attestations, rescoring
from core.scoring.models import PostingStatus, Score
from onchain import deploy as deployment
from onchain.attestations import ScoreRegistryClient
from onchain.devchain import DevChain
from tests import factories
from tests.scoring.support import apply


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chain")
    with DevChain.start() as dev:
        entry = deployment.deploy(dev.rpc_url, addresses_file=folder / "addresses.json",
                                  abi_dir=folder / "abi")
        yield dev.rpc_url, entry["ScoreRegistry"]


@pytest.fixture
def posting(chain, settings, tmp_path):
    rpc_url, registry = chain
    settings.RPC_URL, settings.CHAIN_ID = rpc_url, 31337
    settings.SCORE_REGISTRY_ADDRESS = registry
    settings.SCORE_POSTING = True
    settings.SCORE_POSTING_BATCH = 2
    settings.NONCE_LOCK_DIR = str(tmp_path)
    return ScoreRegistryClient(Web3(Web3.HTTPProvider(rpc_url)), registry)


def test_signed_scores_are_posted_in_batches_and_their_tx_hash_kept(alice, dave, posting, capsys):
    carol = factories.borrower(telegram_id=1005, username="carol")
    rescoring.scores_rescore_all(batch_key="nightly-post", chunk=10)
    assert attestations.scores_sign_pending() == 3
    assert attestations.scores_post_pending() == {"posted": 3}
    scores = list(Score.objects.filter(batch_key="nightly-post").order_by("id"))
    assert {s.posting_status for s in scores} == {PostingStatus.POSTED}
    assert len({s.tx_hash for s in scores}) == 2  # batches of two
    for score in scores:
        stored = posting.attestation_of(score.wallet_address)
        assert "0x" + stored["attestation_hash"].hex() == score.attestation_hash
        assert stored["score"] == score.score
    assert attestations.scores_post_pending() == {"posted": 0}
    call_command("verify_score", "--onchain", "--telegram-id", str(carol.telegram_id))
    assert '"stored_is_this_score": true' in capsys.readouterr().out


def test_only_the_newest_score_of_a_borrower_is_posted(alice, posting):
    rescoring.scores_rescore_all(batch_key="nightly-old", chunk=10)
    loan = loans.loan_submit(loan=loans.loan_request_create(
        borrower=alice, principal=100 * factories.USD, installments=3, purpose="home"),
        actor=alice)
    newest = applications.loan_application_score(loan=loan)
    attestations.scores_sign_pending()
    attestations.scores_post_pending()
    old = Score.objects.get(batch_key="nightly-old")
    newest.refresh_from_db()
    assert old.posting_status == PostingStatus.SUPERSEDED
    assert newest.posting_status == PostingStatus.POSTED and newest.tx_hash
    assert "0x" + posting.attestation_of(alice.wallet_address)[
        "attestation_hash"].hex() == newest.attestation_hash


def test_scores_are_signed_and_verify_with_the_command(alice, registry, capsys):
    rescoring.scores_rescore_all(batch_key="nightly-sign", chunk=10)
    application = applications.loan_application_score(loan=apply(alice))
    assert application.posting_status == PostingStatus.PENDING  # signed inline
    assert attestations.scores_sign_pending(limit=10) == 1  # the batch score
    for score in Score.objects.filter(borrower=alice):
        assert score.signature and score.posting_status == PostingStatus.PENDING
        call_command("verify_score", str(score.pk))
        assert '"ok": true' in capsys.readouterr().out


def test_a_tampered_score_fails_verification(alice, registry):
    score = applications.loan_application_score(loan=apply(alice))
    Score.objects.filter(pk=score.pk).update(score=score.score + 1)
    with pytest.raises(SystemExit):
        call_command("verify_score", str(score.pk))
    score.refresh_from_db()
    assert attestations.verify_score(score=score)["ok"] is False


def test_posting_is_off_by_default(alice, registry):
    applications.loan_application_score(loan=apply(alice))
    assert attestations.scores_post_pending() == {"posted": 0, "skipped": "SCORE_POSTING is off"}
