"""Building blocks of operator actions in the Django admin: each one calls a service per
selected row, reports refusals instead of failing, and asks for a reason where the audit
trail needs one."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.shortcuts import render

from core.common.errors import ServiceError


def apply_each(modeladmin, request, queryset, apply: Callable, done: str) -> int:
    """Apply a service to each selected row; refusals are shown to the operator."""
    changed = 0
    for obj in queryset:
        try:
            apply(obj)
            changed += 1
        except ServiceError as error:
            modeladmin.message_user(request, f"{obj}: {error}", messages.WARNING)
    if changed:
        modeladmin.message_user(request, f"{done}: {changed}.", messages.SUCCESS)
    return changed


def ask_reason(request, queryset, *, action: str, question: str, verb: str):
    """The intermediate page of an action that needs a reason; None once one was given."""
    if request.POST.get("apply") and request.POST.get("reason", "").strip():
        return None
    return render(request, "admin/reason_form.html", {
        "queryset": queryset, "action": action, "question": question, "verb": verb,
        "title": verb})
