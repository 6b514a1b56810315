"""Celery jobs of the ops app: thin wrappers around one service each."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ops.admin_digest", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def admin_digest() -> int:
    """Yesterday's figures to every admin, once (re-runs queue nothing new)."""
    from core.common.chain import DeploymentMissing, current_deployment, web3_client
    from core.ops.digest import admin_digest_queue

    try:
        deployment = current_deployment()
    except DeploymentMissing:  # no contracts on this chain: the digest goes out without the pool
        deployment = None
    return admin_digest_queue(w3=web3_client(), deployment=deployment).queued
