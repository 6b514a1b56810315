// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LoanBook} from "../../src/LoanBook.sol";
import {Fixture} from "../utils/Fixture.sol";
import {LendgramHandler} from "./LendgramHandler.sol";

/// @notice System invariants of the LoanBook and the backstop pool under random valid actions.
contract LendgramInvariantTest is Fixture {
    LendgramHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new LendgramHandler(book, pool, stable, admin, treasury, underwriterKey);
        vm.startPrank(admin);
        stable.grantRole(stable.MINTER_ROLE(), address(handler));
        vm.stopPrank();

        // Money-moving steps appear more than once: each entry is an equal share of the calls,
        // so loans get funded, drawn down and repaid rather than only listed and expired.
        bytes4[] memory selectors = new bytes4[](25);
        selectors[0] = LendgramHandler.openLoan.selector;
        selectors[1] = LendgramHandler.fund.selector;
        selectors[2] = LendgramHandler.fund.selector;
        selectors[3] = LendgramHandler.fund.selector;
        selectors[4] = LendgramHandler.cancel.selector;
        selectors[5] = LendgramHandler.refund.selector;
        selectors[6] = LendgramHandler.drawdown.selector;
        selectors[7] = LendgramHandler.drawdown.selector;
        selectors[8] = LendgramHandler.repay.selector;
        selectors[9] = LendgramHandler.repay.selector;
        selectors[10] = LendgramHandler.repay.selector;
        selectors[11] = LendgramHandler.claim.selector;
        selectors[12] = LendgramHandler.claim.selector;
        selectors[13] = LendgramHandler.claimMany.selector;
        selectors[14] = LendgramHandler.markDefault.selector;
        selectors[15] = LendgramHandler.markDefault.selector;
        selectors[16] = LendgramHandler.claimFees.selector;
        selectors[17] = LendgramHandler.pushPoolReceivable.selector;
        selectors[18] = LendgramHandler.setParameters.selector;
        selectors[19] = LendgramHandler.warp.selector;
        selectors[20] = LendgramHandler.warp.selector;
        selectors[21] = LendgramHandler.poolDeposit.selector;
        selectors[22] = LendgramHandler.poolRequestWithdraw.selector;
        selectors[23] = LendgramHandler.poolRedeem.selector;
        selectors[24] = LendgramHandler.poolTransfer.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// Sum of lender positions == the loan's funded amount, for every loan.
    function invariant_lenderPositionsSumToFunded() public view {
        for (uint256 i; i < handler.loanCount(); ++i) {
            uint256 loanId = handler.loanIds(i);
            uint256 sum;
            for (uint256 j; j < handler.lenderCount(); ++j) {
                (uint256 funded,) = book.positionOf(loanId, handler.lenders(j));
                sum += funded;
            }
            assertEq(sum, book.getLoan(loanId).funded, "positions sum to funded");
        }
    }

    /// Lenders never take more than was distributable: per loan, claimed + still claimable never
    /// exceeds `distributed`; overall, claimed <= repaid - fees - premiums - recoveries + covers.
    function invariant_claimsNeverExceedDistributable() public view {
        for (uint256 i; i < handler.loanCount(); ++i) {
            uint256 loanId = handler.loanIds(i);
            uint256 stillClaimable;
            for (uint256 j; j < handler.lenderCount(); ++j) {
                stillClaimable += book.claimable(loanId, handler.lenders(j));
            }
            assertLe(handler.ghostClaimed(loanId) + stillClaimable, book.distributed(loanId), "per loan");
        }
        assertLe(
            handler.ghostClaimedTotal(),
            handler.ghostRepaid() - handler.ghostFees() - handler.ghostPremiums() - handler.ghostRecoveries()
                + handler.ghostCovers(),
            "overall"
        );
    }

    /// The LoanBook holds exactly what it owes: escrow of loans not drawn down, unrefunded money of
    /// cancelled/expired loans, distributed-but-unclaimed money of running loans (which includes
    /// rounding dust below one base unit per lender), accrued fees and the pool receivable.
    function invariant_loanBookBalanceMatchesLiabilities() public view {
        uint256 owed = book.feesAccrued() + book.poolReceivable();
        for (uint256 i; i < handler.loanCount(); ++i) {
            uint256 loanId = handler.loanIds(i);
            LoanBook.Loan memory loan = book.getLoan(loanId);
            if (loan.state == LoanBook.LoanState.Funding || loan.state == LoanBook.LoanState.Funded) {
                owed += loan.funded;
            } else if (loan.state == LoanBook.LoanState.Cancelled || loan.state == LoanBook.LoanState.Expired) {
                owed += loan.funded - handler.ghostRefunded(loanId);
            } else {
                uint256 unclaimed = book.distributed(loanId) - handler.ghostClaimed(loanId);
                uint256 stillClaimable;
                for (uint256 j; j < handler.lenderCount(); ++j) {
                    stillClaimable += book.claimable(loanId, handler.lenders(j));
                }
                assertLt(unclaimed - stillClaimable, handler.lenderCount(), "dust below 1 per lender");
                owed += unclaimed;
            }
        }
        assertEq(stable.balanceOf(address(book)), owed, "LoanBook balance == liabilities");
    }

    /// Pool total assets == deposits + premiums - covers + recoveries - withdrawals.
    function invariant_poolAssetsMatchFlows() public view {
        assertEq(
            pool.totalAssets(),
            // Inflows first: a pool that covered, was refilled and covered again has paid out more
            // than was ever deposited, and subtracting early would underflow.
            handler.ghostPoolDeposits() + handler.ghostPremiums() + handler.ghostRecoveries() - handler.ghostCovers()
                - handler.ghostPoolWithdrawals(),
            "pool assets"
        );
    }

    /// A withdrawal request never covers more shares than its owner holds, however shares move:
    /// otherwise shares received later could leave on an older request (the cooldown bypass).
    function invariant_withdrawRequestsNeverExceedBalances() public view {
        for (uint256 i; i < handler.depositorCount(); ++i) {
            address depositor = handler.depositors(i);
            (uint256 requested,,) = pool.withdrawRequestOf(depositor);
            assertLe(requested, pool.balanceOf(depositor), "request <= balance");
        }
    }

    /// No loan ever moves backwards in its lifecycle.
    function invariant_loansNeverMoveBackwards() public view {
        assertFalse(handler.ghostStateWentBackwards());
    }
}
