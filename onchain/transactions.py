"""Unsigned transactions for every user action. Encoding only: no RPC, no keys.

Each builder returns the ordered steps a wallet sends; a step that spends tokens is preceded
by the ERC-20 approve it needs (the permit variant of funding needs one signature and one tx).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eth_utils import to_checksum_address

from onchain.approvals import LoanApproval
from onchain.contracts import Deployment


@dataclass(frozen=True)
class UnsignedTx:
    to: str
    data: str
    step: str  # what the step does, a key the caller turns into words
    value: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class Builder:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.loan_book = deployment.contract("LoanBook")
        self.pool = deployment.contract("LiquidityBackstopPool")
        self.stable = deployment.contract("MockStable")

    def _call(self, contract, function: str, args: list, step: str) -> UnsignedTx:
        return UnsignedTx(to=contract.address, data=contract.encode_abi(function, args=args),
                          step=step)

    def approve(self, spender: str, amount: int) -> UnsignedTx:
        return self._call(self.stable, "approve", [to_checksum_address(spender), amount],
                          "approve")

    def open_loan(self, approval: LoanApproval, signature: bytes) -> list[UnsignedTx]:
        return [self._call(self.loan_book, "openLoan", [approval.as_tuple(), signature],
                           "open_loan")]

    def fund(self, loan_id: int, amount: int) -> list[UnsignedTx]:
        return [self.approve(self.loan_book.address, amount),
                self._call(self.loan_book, "fund", [loan_id, amount], "fund")]

    def cancel(self, loan_id: int) -> list[UnsignedTx]:
        return [self._call(self.loan_book, "cancel", [loan_id], "cancel")]

    def expire(self, loan_id: int) -> list[UnsignedTx]:
        return [self._call(self.loan_book, "expire", [loan_id], "expire")]

    def refund(self, loan_id: int) -> list[UnsignedTx]:
        return [self._call(self.loan_book, "refund", [loan_id], "refund")]

    def drawdown(self, loan_id: int) -> list[UnsignedTx]:
        return [self._call(self.loan_book, "drawdown", [loan_id], "drawdown")]

    def repay(self, loan_id: int, amount: int) -> list[UnsignedTx]:
        return [self.approve(self.loan_book.address, amount),
                self._call(self.loan_book, "repay", [loan_id, amount], "repay")]

    def claim(self, loan_ids: list[int]) -> list[UnsignedTx]:
        if len(loan_ids) == 1:
            return [self._call(self.loan_book, "claim", [loan_ids[0]], "claim")]
        return [self._call(self.loan_book, "claimMany", [list(loan_ids)], "claim")]

    def mark_default(self, loan_id: int) -> list[UnsignedTx]:
        return [self._call(self.loan_book, "markDefault", [loan_id], "mark_default")]

    def pool_deposit(self, assets: int, receiver: str) -> list[UnsignedTx]:
        return [self.approve(self.pool.address, assets),
                self._call(self.pool, "deposit", [assets, to_checksum_address(receiver)],
                           "pool_deposit")]

    def pool_request_withdraw(self, shares: int) -> list[UnsignedTx]:
        return [self._call(self.pool, "requestWithdraw", [shares], "pool_request_withdraw")]

    def pool_redeem(self, shares: int, owner: str) -> list[UnsignedTx]:
        owner = to_checksum_address(owner)
        return [self._call(self.pool, "redeem", [shares, owner, owner], "pool_withdraw")]

    def pause(self, contract_name: str, *, paused: bool) -> list[UnsignedTx]:
        contract = self.deployment.contract(contract_name)
        return [self._call(contract, "pause" if paused else "unpause", [],
                           "pause" if paused else "unpause")]
