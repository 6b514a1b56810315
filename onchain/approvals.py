"""The underwriter's EIP-712 LoanApproval, exactly as LoanBook verifies it."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_utils import to_checksum_address

DOMAIN_NAME = "Lendgram LoanBook"
DOMAIN_VERSION = "1"
LOAN_APPROVAL_TYPES = {
    "LoanApproval": [
        {"name": "borrower", "type": "address"},
        {"name": "principal", "type": "uint256"},
        {"name": "totalDue", "type": "uint256"},
        {"name": "installments", "type": "uint16"},
        {"name": "interval", "type": "uint32"},
        {"name": "fundingDeadline", "type": "uint64"},
        {"name": "grade", "type": "uint8"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint64"},
    ]
}
GRADES = "ABCDE"


def grade_code(grade: str) -> int:
    """On chain a grade is 1 (A) to 5 (E)."""
    return GRADES.index(grade) + 1


@dataclass(frozen=True)
class LoanApproval:
    borrower: str
    principal: int
    total_due: int
    installments: int
    interval: int  # seconds
    funding_deadline: int  # unix time
    grade: int
    nonce: int
    expiry: int  # unix time

    def message(self) -> dict:
        return {"borrower": to_checksum_address(self.borrower), "principal": self.principal,
                "totalDue": self.total_due, "installments": self.installments,
                "interval": self.interval, "fundingDeadline": self.funding_deadline,
                "grade": self.grade, "nonce": self.nonce, "expiry": self.expiry}

    def as_tuple(self) -> tuple:
        m = self.message()
        return tuple(m[field["name"]] for field in LOAN_APPROVAL_TYPES["LoanApproval"])


def _domain(chain_id: int, loan_book: str) -> dict:
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
            "verifyingContract": to_checksum_address(loan_book)}


def sign_loan_approval(approval: LoanApproval, *, private_key: str, chain_id: int,
                       loan_book: str) -> bytes:
    """The underwriter's signature; the key is used here and never stored or logged."""
    signed = Account.sign_typed_data(private_key, _domain(chain_id, loan_book),
                                     LOAN_APPROVAL_TYPES, approval.message())
    return bytes(signed.signature)


def recover_loan_approval_signer(approval: LoanApproval, signature: bytes, *, chain_id: int,
                                 loan_book: str) -> str:
    from eth_account.messages import encode_typed_data

    message = encode_typed_data(_domain(chain_id, loan_book), LOAN_APPROVAL_TYPES,
                                approval.message())
    return Account.recover_message(message, signature=signature)
