"""The project's own deployment checks, run by `manage.py check --deploy` beside Django's."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_is_configured(app_configs, **kwargs) -> list[Warning]:
    if settings.SECRET_KEY_FROM_ENVIRONMENT:
        return []
    return [Warning(
        "DJANGO_SECRET_KEY is not set: this process uses a key generated in var/, which the "
        "other processes of a deployment do not share (sign-in links and sessions made by "
        "one are refused by the others).", hint="Set DJANGO_SECRET_KEY (see .env.example).",
        id="lendgram.W001")]


@register(Tags.security, deploy=True)
def operators_need_a_second_factor(app_configs, **kwargs) -> list[Warning]:
    if settings.OPERATOR_2FA_REQUIRED:
        return []
    return [Warning("OPERATOR_2FA_REQUIRED is off: Django admin opens with a password alone.",
                    hint="Unset it (on by default) and run `manage.py operator_2fa <username>`.",
                    id="lendgram.W002")]
