"""/health tells a load balancer whether this deployment can do its job, naming the part that
cannot; /health/live only says the process answers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.chain.models import ChainCursor
from core.loans import services as loans
from core.loans.models import LoanTransition
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.notifications.services import notification_enqueue, outbox_mark_sent
from core.scoring import applications as scoring
from tests import factories
from tests.disposable import free_port

REDIS = "redis://127.0.0.1:6379/0"
API_KEY = "k3yOfAHostedNode0123456789"


@pytest.fixture
def deployment(settings):
    """A healthy deployment without a chain: the real Redis, thresholds at their defaults."""
    settings.REDIS_URL = REDIS
    settings.HEALTH_CHECK_RPC = False
    return settings


@pytest.fixture
def on_chain(deployment, chain):
    """The chain is checked too: the session's anvil, its indexer up to date."""
    deployment.HEALTH_CHECK_RPC = True
    deployment.RPC_URL = chain.rpc_url
    head = chain.w3.eth.block_number
    ChainCursor.objects.create(chain_id=deployment.CHAIN_ID,
                               next_block=head - deployment.CHAIN.confirmations + 1)
    return chain


def health(client) -> tuple[int, dict]:
    response = client.get("/health")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"], "a cached answer would hide an outage"
    return response.status_code, response.json()


def failing(report: dict) -> set[str]:
    return {name for name, check in report["checks"].items() if not check["ok"]}


def queue_messages(person, count: int, *, age_s: float = 0) -> list[OutboxMessage]:
    messages = [notification_enqueue(recipient=person, template_key="offer_ready",
                                     dedupe_key=f"health:{person.pk}:{n}")[0]
                for n in range(count)]
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        created_at=timezone.now() - timedelta(seconds=age_s))
    return messages


def bob_like(person):
    """Another recipient, so that the second message is not deduplicated into the first."""
    return factories.lender(telegram_id=person.telegram_id + 500, username="health_bob")


def loan_in_review(borrower, settings, *, hours: float):
    """A real application sent to review by scoring, waiting there for `hours`."""
    settings.SCORING_REVIEW_AMOUNT = 100 * factories.USD
    loan = loans.loan_submit(loan=loans.loan_request_create(
        borrower=borrower, principal=150 * factories.USD, installments=3, purpose="business"),
        actor=borrower)
    scoring.loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.IN_REVIEW
    LoanTransition.objects.filter(loan=loan, to_state=LoanState.IN_REVIEW).update(
        created_at=timezone.now() - timedelta(hours=hours))
    return loan


@pytest.mark.django_db
def test_a_healthy_deployment_answers_200_with_every_check_ok(client, on_chain, alice):
    queue_messages(alice, 2, age_s=30)
    status, report = health(client)
    assert status == 200 and report["ok"] is True
    assert set(report["checks"]) == {"database", "redis", "chain", "outbox", "review"}
    assert failing(report) == set()
    checks = report["checks"]
    assert checks["database"]["vendor"] in {"sqlite", "postgresql"}
    assert checks["chain"]["head"] == on_chain.w3.eth.block_number
    assert checks["chain"]["indexer_lag_blocks"] == 0
    assert checks["outbox"]["pending"] == 2 and 29 <= checks["outbox"]["oldest_age_s"] < 600
    assert checks["review"] == {**checks["review"], "waiting": 0, "oldest_age_h": 0.0}
    assert all(check["ms"] >= 0 for check in checks.values())


@pytest.mark.django_db
def test_redis_and_the_chain_are_checked_only_when_configured(client, deployment):
    deployment.REDIS_URL = ""
    status, report = health(client)
    assert status == 200
    assert set(report["checks"]) == {"database", "outbox", "review"}


@pytest.mark.django_db
def test_a_dead_redis_makes_it_503_naming_redis(client, deployment):
    deployment.REDIS_URL = f"redis://:hunter2-redis@127.0.0.1:{free_port()}/0"
    status, report = health(client)
    assert status == 503 and report["ok"] is False
    assert failing(report) == {"redis"}
    assert "ConnectionError" in report["checks"]["redis"]["error"]
    assert "hunter2" not in json.dumps(report), "/health is public"


@pytest.mark.django_db
def test_a_dead_rpc_node_makes_it_503_naming_the_chain(client, deployment):
    deployment.HEALTH_CHECK_RPC = True
    # Hosted nodes carry their API key in the path; errors quote it, /health is public.
    deployment.RPC_URL = f"http://127.0.0.1:{free_port()}/v2/{API_KEY}"
    status, report = health(client)
    assert status == 503
    assert failing(report) == {"chain"}
    assert "ConnectionError" in report["checks"]["chain"]["error"]
    assert API_KEY not in json.dumps(report)


@pytest.mark.django_db
def test_an_outbox_message_older_than_the_limit_makes_it_503_naming_the_outbox(
        client, deployment, alice):
    limit = deployment.HEALTH_MAX_OUTBOX_AGE_S
    old = queue_messages(alice, 1, age_s=limit + 60)[0]
    queue_messages(bob_like(alice), 1)
    status, report = health(client)
    assert status == 503
    assert failing(report) == {"outbox"}
    outbox = report["checks"]["outbox"]
    assert outbox["pending"] == 2 and outbox["oldest_age_s"] >= limit + 60
    assert outbox["max_age_s"] == limit

    outbox_mark_sent(message=old)  # delivered at last: only the fresh one waits
    status, report = health(client)
    assert status == 200 and report["checks"]["outbox"]["pending"] == 1


@pytest.mark.django_db
def test_a_fresh_outbox_backlog_beyond_its_size_limit_makes_it_503(client, deployment, alice):
    deployment.HEALTH_MAX_OUTBOX_BACKLOG = 2
    queue_messages(alice, 2)
    assert health(client)[0] == 200, "at the limit is still healthy"
    queue_messages(bob_like(alice), 1)
    status, report = health(client)
    assert status == 503 and failing(report) == {"outbox"}
    assert report["checks"]["outbox"]["pending"] == 3


@pytest.mark.django_db
def test_a_review_item_older_than_the_limit_makes_it_503_naming_the_review(
        client, deployment, alice):
    limit = deployment.HEALTH_MAX_REVIEW_AGE_H
    loan_in_review(alice, deployment, hours=limit - 1)
    status, report = health(client)
    assert status == 200 and report["checks"]["review"]["waiting"] == 1

    LoanTransition.objects.filter(to_state=LoanState.IN_REVIEW).update(
        created_at=timezone.now() - timedelta(hours=limit + 2))
    status, report = health(client)
    assert status == 503
    assert failing(report) == {"review"}
    review = report["checks"]["review"]
    assert review["waiting"] == 1 and review["oldest_age_h"] >= limit + 2
    assert review["max_age_h"] == limit


@pytest.mark.django_db
def test_an_indexer_lagging_beyond_the_limit_makes_it_503_naming_the_chain(
        client, on_chain, deployment):
    head = on_chain.w3.eth.block_number
    confirmations = deployment.CHAIN.confirmations
    deployment.HEALTH_MAX_INDEXER_LAG_BLOCKS = 2
    assert head - confirmations >= 3, "the deployed test chain has enough blocks to lag"
    cursor = ChainCursor.objects.get(chain_id=deployment.CHAIN_ID)

    cursor.next_block = head - confirmations + 1 - 2
    cursor.save()
    status, report = health(client)
    assert status == 200 and report["checks"]["chain"]["indexer_lag_blocks"] == 2

    cursor.next_block -= 1
    cursor.save()
    status, report = health(client)
    assert status == 503
    assert failing(report) == {"chain"}
    chain = report["checks"]["chain"]
    assert chain["indexer_lag_blocks"] == 3 and chain["max_lag_blocks"] == 2


@pytest.mark.django_db
def test_live_answers_200_even_when_every_dependency_is_down(client, deployment, alice):
    deployment.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    deployment.HEALTH_CHECK_RPC = True
    deployment.RPC_URL = f"http://127.0.0.1:{free_port()}"
    queue_messages(alice, 1, age_s=deployment.HEALTH_MAX_OUTBOX_AGE_S + 60)
    assert health(client)[0] == 503
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_without_a_database_health_is_503_and_live_still_200(client, deployment):
    """Outside a django_db test pytest-django refuses every database connection, which is
    what an outage looks like to this process."""
    status, report = health(client)
    assert status == 503
    assert failing(report) == {"database", "outbox", "review"}
    assert report["checks"]["outbox"]["error"] == "database unavailable"
    assert client.get("/health/live").status_code == 200


@pytest.mark.django_db
def test_only_get_is_answered(client, deployment):
    assert client.post("/health").status_code == 405
    assert client.post("/metrics").status_code == 405
