"""Lendgram's domain: one Django app per concern (see design.md for their layers)."""
