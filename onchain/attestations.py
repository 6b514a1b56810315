"""EIP-712 score attestations for the ScoreRegistry contract: build, sign, verify, post.

The typed data matches contracts/src/ScoreRegistry.sol exactly::

    domain  {name: "Lendgram ScoreRegistry", version: "1", chainId, verifyingContract}
    ScoreAttestation(address borrower,uint16 score,uint8 grade,uint32 modelVersion,
                     uint64 issuedAt,uint64 expiry)

with grades encoded A=1 .. E=5. ``Account.sign_typed_data`` costs ~2 ms per signature here, too
slow for a nightly batch of 100k scores, so :class:`AttestationSigner` hashes the (all static)
struct itself and signs the digest; tests prove its digest and signature equal eth-account's and
the contract's ``hashAttestation``. Verification always goes through eth-account's own EIP-712
encoder, so a bug in the fast path could not verify itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from eth_keys.exceptions import BadSignature
from eth_utils import to_canonical_address, to_checksum_address

try:  # libsecp256k1 bindings: ~100 us a signature instead of ~5 ms in pure Python
    import coincurve
except ImportError:  # pragma: no cover - the project depends on coincurve
    coincurve = None

DOMAIN_NAME = "Lendgram ScoreRegistry"
DOMAIN_VERSION = "1"
GRADE_CODES = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
GRADE_LETTERS = {code: letter for letter, code in GRADE_CODES.items()}

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
SCORE_ATTESTATION_TYPE = [
    {"name": "borrower", "type": "address"},
    {"name": "score", "type": "uint16"},
    {"name": "grade", "type": "uint8"},
    {"name": "modelVersion", "type": "uint32"},
    {"name": "issuedAt", "type": "uint64"},
    {"name": "expiry", "type": "uint64"},
]
SCORE_ATTESTATION_TYPEHASH = keccak(
    b"ScoreAttestation(address borrower,uint16 score,uint8 grade,uint32 modelVersion,"
    b"uint64 issuedAt,uint64 expiry)"
)
_DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_ABI_DIR = Path(__file__).resolve().parent / "abi"
_ARTIFACT = (Path(__file__).resolve().parent.parent / "contracts" / "out" / "ScoreRegistry.sol"
             / "ScoreRegistry.json")


class AttestationError(ValueError):
    """An attestation whose fields do not fit the contract's types."""


@dataclass(frozen=True, slots=True)
class RegistryDomain:
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": self.chain_id,
                "verifyingContract": to_checksum_address(self.verifying_contract)}

    def separator(self) -> bytes:
        return keccak(
            _DOMAIN_TYPEHASH + keccak(DOMAIN_NAME.encode()) + keccak(DOMAIN_VERSION.encode())
            + self.chain_id.to_bytes(32, "big")
            + to_canonical_address(self.verifying_contract).rjust(32, b"\0"))


@dataclass(frozen=True, slots=True)
class ScoreAttestation:
    borrower: str
    score: int
    grade: int  # A=1 .. E=5
    model_version: int
    issued_at: int  # unix seconds
    expiry: int  # unix seconds

    def __post_init__(self) -> None:
        for name, value, bits in (("score", self.score, 16), ("grade", self.grade, 8),
                                  ("model_version", self.model_version, 32),
                                  ("issued_at", self.issued_at, 64), ("expiry", self.expiry, 64)):
            if not isinstance(value, int) or not 0 <= value < 2**bits:
                raise AttestationError(f"{name}={value!r} does not fit uint{bits}")
        if self.grade not in GRADE_LETTERS:
            raise AttestationError(f"grade code {self.grade} is not one of 1..5 (A..E)")
        to_canonical_address(self.borrower)  # raises on a malformed address

    def message(self) -> dict[str, Any]:
        return {"borrower": to_checksum_address(self.borrower), "score": self.score,
                "grade": self.grade, "modelVersion": self.model_version,
                "issuedAt": self.issued_at, "expiry": self.expiry}

    def as_tuple(self) -> tuple:
        """The struct as the contract's ABI takes it."""
        return (to_checksum_address(self.borrower), self.score, self.grade, self.model_version,
                self.issued_at, self.expiry)

    def struct_hash(self) -> bytes:
        return keccak(
            SCORE_ATTESTATION_TYPEHASH + to_canonical_address(self.borrower).rjust(32, b"\0")
            + b"".join(value.to_bytes(32, "big") for value in (
                self.score, self.grade, self.model_version, self.issued_at, self.expiry)))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def typed_data(attestation: ScoreAttestation, domain: RegistryDomain) -> dict[str, Any]:
    """The full EIP-712 message (what a wallet or eth-account signs)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "ScoreAttestation": SCORE_ATTESTATION_TYPE},
        "primaryType": "ScoreAttestation",
        "domain": domain.as_dict(),
        "message": attestation.message(),
    }


def attestation_digest(attestation: ScoreAttestation, domain: RegistryDomain) -> bytes:
    """The EIP-712 digest: what the contract stores as ``attestationHash``."""
    return keccak(b"\x19\x01" + domain.separator() + attestation.struct_hash())


@dataclass(frozen=True, slots=True)
class SignedAttestation:
    attestation: ScoreAttestation
    digest: bytes
    signature: bytes  # 65 bytes r || s || v, v in {27, 28}


class AttestationSigner:
    """Signs attestations with the scorer key for one registry; the key is never printed."""

    __slots__ = ("_cc_key", "_domain_separator", "_key", "address", "domain")

    def __init__(self, *, private_key: str | bytes, domain: RegistryDomain) -> None:
        account = Account.from_key(private_key)
        self._key = account.key
        self._cc_key = coincurve.PrivateKey(bytes(account.key)) if coincurve else None
        self.address = account.address
        self.domain = domain
        self._domain_separator = domain.separator()

    def __repr__(self) -> str:
        return f"AttestationSigner(address={self.address}, chain_id={self.domain.chain_id})"

    def sign(self, attestation: ScoreAttestation) -> SignedAttestation:
        digest = keccak(b"\x19\x01" + self._domain_separator + attestation.struct_hash())
        if self._cc_key is not None:
            raw = self._cc_key.sign_recoverable(digest, hasher=None)
            signature = raw[:64] + bytes([raw[64] + 27])
        else:  # pragma: no cover
            signature = bytes(Account.unsafe_sign_hash(digest, self._key).signature)
        return SignedAttestation(attestation=attestation, digest=digest, signature=signature)


def recover_scorer(attestation: ScoreAttestation, domain: RegistryDomain,
                   signature: bytes | str) -> str:
    """The address that signed this attestation, by eth-account's own EIP-712 encoding."""
    message = encode_typed_data(full_message=typed_data(attestation, domain))
    return Account.recover_message(message, signature=signature)


def verify_attestation(attestation: ScoreAttestation, domain: RegistryDomain,
                       signature: bytes | str, *, scorer: str) -> bool:
    """Whether `scorer` signed exactly this attestation for this registry."""
    try:
        signer = recover_scorer(attestation, domain, signature)
    except (ValueError, TypeError, BadSignature):
        return False
    return signer.lower() == scorer.lower()


def registry_abi() -> list[dict[str, Any]]:
    """ScoreRegistry's ABI: the exported one (onchain/abi/), else forge's artifact."""
    exported = _ABI_DIR / "ScoreRegistry.json"
    if exported.exists():
        return json.loads(exported.read_text())
    if _ARTIFACT.exists():
        return json.loads(_ARTIFACT.read_text())["abi"]
    raise FileNotFoundError("ScoreRegistry ABI missing: run `make sync-abi`")


class ScoreRegistryClient:
    """Reads from and builds calls to one deployed ScoreRegistry."""

    def __init__(self, w3: Any, address: str, abi: list[dict[str, Any]] | None = None) -> None:
        self.w3 = w3
        self.contract = w3.eth.contract(address=to_checksum_address(address),
                                        abi=abi or registry_abi())

    @property
    def address(self) -> str:
        return self.contract.address

    def post_batch_tx(self, attestations: list[ScoreAttestation], *, gas: int | None = None
                      ) -> dict[str, Any]:
        """An unsigned ``postBatch`` transaction (to, data and, if given, gas)."""
        tx: dict[str, Any] = {
            "to": self.contract.address,
            "data": self.contract.encode_abi("postBatch",
                                             args=[[a.as_tuple() for a in attestations]]),
            "value": 0,
        }
        if gas is not None:
            tx["gas"] = gas
        return tx

    def attestation_of(self, borrower: str) -> dict[str, Any]:
        score, grade, model_version, expiry, attestation_hash, issued_at = (
            self.contract.functions.attestationOf(to_checksum_address(borrower)).call())
        return {"score": score, "grade": grade, "model_version": model_version, "expiry": expiry,
                "attestation_hash": bytes(attestation_hash), "issued_at": issued_at}

    def hash_attestation(self, attestation: ScoreAttestation) -> bytes:
        return bytes(self.contract.functions.hashAttestation(attestation.as_tuple()).call())

    def is_scorer(self, address: str) -> bool:
        role = self.contract.functions.SCORER_ROLE().call()
        return bool(self.contract.functions.hasRole(role, to_checksum_address(address)).call())
