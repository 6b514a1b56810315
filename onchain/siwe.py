"""EIP-4361 (Sign-In with Ethereum) messages: build, parse and verify.

The `siwe` package pins old web3/eth-account versions, and the format is small, so it is
implemented here; signatures are checked with eth-account's personal-sign recovery.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address, to_checksum_address

_NONCE = re.compile(r"^[A-Za-z0-9]{8,}$")
_MESSAGE = re.compile(
    r"^(?P<domain>[^\s]+) wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n\n"
    r"(?:(?P<statement>[^\n]+)\n)?\n"
    r"URI: (?P<uri>[^\s]+)\n"
    r"Version: (?P<version>1)\n"
    r"Chain ID: (?P<chain_id>[0-9]+)\n"
    r"Nonce: (?P<nonce>[A-Za-z0-9]+)\n"
    r"Issued At: (?P<issued_at>[^\n]+)"
    r"(?:\nExpiration Time: (?P<expiration_time>[^\n]+))?"
    r"(?:\nNot Before: (?P<not_before>[^\n]+))?"
    r"(?:\nRequest ID: (?P<request_id>[^\n]*))?"
    r"(?:\nResources:(?P<resources>(?:\n- [^\n]+)+))?$"
)


class SiweError(ValueError):
    """Why a sign-in message was refused; `reason` is a stable key for translations."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def new_nonce() -> str:
    """A single-use server nonce (EIP-4361 asks for at least 8 alphanumerics)."""
    return secrets.token_hex(16)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SiweError("malformed", f"bad timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        raise SiweError("malformed", f"timestamp {value!r} has no time zone")
    return parsed


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    statement: str = ""
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str = ""
    resources: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        lines = [f"{self.domain} wants you to sign in with your Ethereum account:",
                 to_checksum_address(self.address), ""]
        if self.statement:
            lines.append(self.statement)
        lines += ["", f"URI: {self.uri}", "Version: 1", f"Chain ID: {self.chain_id}",
                  f"Nonce: {self.nonce}", f"Issued At: {_timestamp(self.issued_at)}"]
        if self.expiration_time:
            lines.append(f"Expiration Time: {_timestamp(self.expiration_time)}")
        if self.not_before:
            lines.append(f"Not Before: {_timestamp(self.not_before)}")
        if self.request_id:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {resource}" for resource in self.resources]
        return "\n".join(lines)


def build_message(*, domain: str, address: str, uri: str, chain_id: int, nonce: str,
                  statement: str = "", ttl: timedelta = timedelta(minutes=15),
                  now: datetime | None = None) -> SiweMessage:
    if not _NONCE.match(nonce):
        raise SiweError("malformed", "the nonce must be at least 8 letters or digits")
    if "\n" in statement:
        raise SiweError("malformed", "the statement must be one line")
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    return SiweMessage(domain=domain, address=to_checksum_address(address), uri=uri,
                       chain_id=chain_id, nonce=nonce, issued_at=issued, statement=statement,
                       expiration_time=issued + ttl)


def parse_message(text: str) -> SiweMessage:
    match = _MESSAGE.match(text.replace("\r\n", "\n"))
    if not match:
        raise SiweError("malformed", "not an EIP-4361 sign-in message")
    address = match["address"]
    if not is_checksum_address(address):
        raise SiweError("malformed", "the address is not in EIP-55 checksum form")
    resources = tuple(line[2:] for line in (match["resources"] or "").split("\n") if line)
    return SiweMessage(
        domain=match["domain"], address=address, uri=match["uri"],
        chain_id=int(match["chain_id"]), nonce=match["nonce"],
        issued_at=_parse_time(match["issued_at"]), statement=match["statement"] or "",
        expiration_time=_parse_time(match["expiration_time"]) if match["expiration_time"]
        else None,
        not_before=_parse_time(match["not_before"]) if match["not_before"] else None,
        request_id=match["request_id"] or "", resources=resources)


def verify(*, text: str, signature: str, domain: str, chain_id: int, nonce: str,
           now: datetime | None = None, clock_skew: timedelta = timedelta(minutes=2)
           ) -> SiweMessage:
    """Check a signed sign-in message against what the server expects; returns it parsed.

    The caller must also make sure `nonce` is one it issued and has not accepted before.
    """
    message = parse_message(text)
    now = now or datetime.now(UTC)
    if message.domain != domain:
        raise SiweError("wrong_domain", f"signed for {message.domain}, expected {domain}")
    if message.chain_id != chain_id:
        raise SiweError("wrong_chain", f"signed for chain {message.chain_id}, expected {chain_id}")
    if message.nonce != nonce:
        raise SiweError("wrong_nonce", "the nonce is not the one issued for this request")
    if message.expiration_time and now >= message.expiration_time:
        raise SiweError("expired", "the sign-in message has expired")
    if message.not_before and now < message.not_before:
        raise SiweError("not_yet_valid", "the sign-in message is not valid yet")
    if message.issued_at > now + clock_skew:
        raise SiweError("not_yet_valid", "the sign-in message is issued in the future")
    try:
        signer = Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception as exc:  # eth-account raises several types for a malformed signature
        raise SiweError("bad_signature", "the signature cannot be read") from exc
    if signer != message.address:
        raise SiweError("bad_signature", "the signature is not from the address in the message")
    return message
