"""The operators' Django admin: after the password, a TOTP code or a recovery code
(django-otp) whenever OPERATOR_2FA_REQUIRED is on, which it is unless DEBUG is."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpResponseBadRequest
from django_otp.admin import OTPAdminSite


class OperatorAdminSite(OTPAdminSite):
    site_header = "Lendgram operations"
    site_title = "Lendgram"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    # Read per request, so a test or a settings change needs no new site.
    @property
    def login_form(self):
        return (OTPAdminSite.login_form if settings.OPERATOR_2FA_REQUIRED
                else AdminAuthenticationForm)

    @property
    def login_template(self):
        return OTPAdminSite.login_template if settings.OPERATOR_2FA_REQUIRED else None

    def admin_view(self, view, cacheable=False):
        """Filters and orderings in a change list's address go straight into queries, and
        PostgreSQL refuses NUL in any text: such an address gets a 400, not a server error."""
        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def refuse_nul(request, *args, **kwargs):
            if any("\x00" in key or "\x00" in value
                   for key, values in request.GET.lists() for value in values):
                return HttpResponseBadRequest(str(ProhibitNullCharactersValidator.message))
            return guarded(request, *args, **kwargs)

        return refuse_nul

    def has_permission(self, request) -> bool:
        if settings.OPERATOR_2FA_REQUIRED:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)

