// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LoanBook} from "../src/LoanBook.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Properties of the money rules over fuzzed amounts, times and lender counts.
contract LoanBookFuzzTest is Fixture {
    uint256 internal constant MAX_PRINCIPAL = 10_000_000 * USD;

    // ------------------------------------------------------------ schedule

    function testFuzz_cumulativeDue_isTheFloorAndEndsAtTotalDue(uint256 principal, uint256 interest, uint16 n) public {
        principal = bound(principal, 1, type(uint96).max / 2);
        interest = bound(interest, 0, type(uint96).max / 2);
        n = uint16(bound(n, 1, type(uint16).max));
        uint256 loanId = _openLoan(principal, principal + interest, n);
        uint256 totalDue = principal + interest;

        uint256 previous;
        // Ascending (n / 2 >= 1 and n - 1 >= n / 2 once n >= 2; n == 1 repeats 0 and 1).
        uint256[5] memory ks = [uint256(0), 1, n / 2 > 1 ? n / 2 : 1, n - 1 > 1 ? n - 1 : 1, n];
        for (uint256 i; i < ks.length; ++i) {
            uint256 due = book.cumulativeDue(loanId, ks[i]);
            assertEq(due, totalDue * ks[i] / n, "floor(totalDue * k / n)");
            assertGe(due, previous, "non-decreasing");
            previous = due;
        }
        assertEq(book.cumulativeDue(loanId, n), totalDue, "last equals totalDue");
    }

    function testFuzz_dueNow_matchesTheSchedule(uint256 elapsed, uint256 repaid) public {
        uint256 loanId = _activeLoan();
        uint256 start = block.timestamp;
        repaid = bound(repaid, 0, 1_060 * USD);
        if (repaid != 0) _repay(loanId, alice, repaid);
        elapsed = bound(elapsed, 0, 10 * 365 days);
        vm.warp(start + elapsed);

        uint256 k = elapsed / MONTH > 6 ? 6 : elapsed / MONTH;
        uint256 due = 1_060 * USD * k / 6;
        assertEq(book.dueNow(loanId), due > repaid ? due - repaid : 0, "dueNow");
        if (repaid < 1_060 * USD) {
            uint256 next = book.nextDueTime(loanId);
            uint256 installment = (next - start) / MONTH;
            assertGt(book.cumulativeDue(loanId, installment), repaid);
            assertLe(book.cumulativeDue(loanId, installment - 1), repaid, "earlier ones are paid");
        }
    }

    // ------------------------------------------------------------ funding

    function testFuzz_fund_takesAtMostTheRemainder(uint256 principal, uint256[4] memory offers) public {
        principal = bound(principal, 10 * USD, MAX_PRINCIPAL);
        uint256 loanId = _openLoan(principal, principal, 1);
        address[4] memory lenders = [bob, carol, dave, erin];
        uint256 total;
        for (uint256 i; i < offers.length; ++i) {
            uint256 remaining = principal - total;
            if (remaining == 0) break;
            uint256 offer = bound(offers[i], book.minTicket(), 2 * MAX_PRINCIPAL);
            _mint(lenders[i], offer);
            uint256 taken = _fund(loanId, lenders[i], offer);
            assertEq(taken, offer < remaining ? offer : remaining, "takes min(offer, remaining)");
            total += taken;
            (uint256 funded,) = book.positionOf(loanId, lenders[i]);
            assertEq(funded, taken);
        }
        assertEq(book.getLoan(loanId).funded, total);
        assertEq(stable.balanceOf(address(book)), total);
        _assertState(loanId, total == principal ? LoanBook.LoanState.Funded : LoanBook.LoanState.Funding);
    }

    function testFuzz_refund_returnsExactlyWhatWasFunded(uint256 lenderCount, uint256 seed, bool cancel) public {
        lenderCount = bound(lenderCount, 1, 8);
        uint256 loanId = _openLoan(MAX_PRINCIPAL, MAX_PRINCIPAL, 3);
        address[] memory lenders = _lenders(lenderCount);
        uint256[] memory funded = new uint256[](lenderCount);
        for (uint256 i; i < lenderCount; ++i) {
            uint256 amount = bound(uint256(keccak256(abi.encode(seed, i))), 10 * USD, MAX_PRINCIPAL / 10);
            funded[i] = _fund(loanId, lenders[i], amount);
        }
        if (cancel) {
            vm.prank(alice);
            book.cancel(loanId);
        } else {
            vm.warp(book.getLoan(loanId).fundingDeadline + 1);
        }
        for (uint256 i; i < lenderCount; ++i) {
            uint256 before = stable.balanceOf(lenders[i]);
            vm.prank(lenders[i]);
            assertEq(book.refund(loanId), funded[i]);
            assertEq(stable.balanceOf(lenders[i]), before + funded[i]);
        }
        assertEq(stable.balanceOf(address(book)), 0, "nothing left behind");
    }

    // ------------------------------------------------------------ repayments

    function testFuzz_repay_neverOverpays(uint256 principal, uint256 interest, uint256[5] memory amounts) public {
        principal = bound(principal, 10 * USD, MAX_PRINCIPAL);
        interest = bound(interest, 0, principal);
        uint256 totalDue = principal + interest;
        uint256 loanId = _activeLoanWith(principal, totalDue, 12, 1);
        _mint(alice, 2 * totalDue);

        for (uint256 i; i < amounts.length; ++i) {
            LoanBook.Loan memory loan = book.getLoan(loanId);
            if (loan.repaid == totalDue) break;
            uint256 owed = totalDue - loan.repaid;
            uint256 amount = bound(amounts[i], 1, 2 * totalDue);
            uint256 before = stable.balanceOf(alice);
            uint256 paid = _repay(loanId, alice, amount);
            assertEq(paid, amount < owed ? amount : owed, "takes min(amount, owed)");
            assertEq(stable.balanceOf(alice), before - paid, "charged exactly what was taken");
            assertLe(book.getLoan(loanId).repaid, totalDue, "never above totalDue");
        }
    }

    function testFuzz_repay_chargesAddUpExactly(
        uint256 principal,
        uint256 interest,
        uint16 feeBps,
        uint16 premiumBps,
        uint256[6] memory payments
    ) public {
        principal = bound(principal, 10 * USD, MAX_PRINCIPAL);
        interest = bound(interest, 0, principal);
        feeBps = uint16(bound(feeBps, 0, 5_000));
        premiumBps = uint16(bound(premiumBps, 0, 5_000));
        vm.startPrank(admin);
        book.setPlatformFeeBps(feeBps);
        book.setPremiumBps(premiumBps);
        vm.stopPrank();
        uint256 totalDue = principal + interest;
        uint256 loanId = _activeLoanWith(principal, totalDue, 6, 1);
        _mint(alice, totalDue);

        (uint256 fees, uint256 premiums) = _repayInChunks(loanId, interest, totalDue, payments);
        assertEq(fees, interest * feeBps / BPS, "total fee");
        assertEq(premiums, interest * premiumBps / BPS, "total premium");
        assertEq(book.distributed(loanId), totalDue - fees - premiums, "lenders get the rest, exactly");
        _assertState(loanId, LoanBook.LoanState.Repaid);
    }

    // ------------------------------------------------------------ claims

    function testFuzz_claims_neverExceedWhatWasDistributed(uint256 lenderCount, uint256 seed, uint256 repaid) public {
        lenderCount = bound(lenderCount, 1, 8);
        uint256 principal = bound(uint256(keccak256(abi.encode(seed, "principal"))), 100 * USD, MAX_PRINCIPAL);
        uint256 totalDue = principal + bound(uint256(keccak256(abi.encode(seed, "interest"))), 0, principal / 2);
        uint256 loanId = _activeLoanWith(principal, totalDue, 6, lenderCount);
        _mint(alice, totalDue);
        repaid = bound(repaid, 1, totalDue);
        _repay(loanId, alice, repaid);

        uint256 claimed = _claimAll(loanId, lenderCount);
        uint256 distributed = book.distributed(loanId);
        assertLe(claimed, distributed, "claims never exceed distributed");
        assertLt(distributed - claimed, lenderCount, "less than one base unit of dust per lender");

        if (repaid < totalDue) _repay(loanId, alice, totalDue - repaid);
        claimed += _claimAll(loanId, lenderCount);
        distributed = book.distributed(loanId);
        assertLe(claimed, distributed, "claims never exceed distributed");
        assertLt(distributed - claimed, lenderCount, "less than one base unit of dust per lender");
        assertEq(stable.balanceOf(address(book)), distributed - claimed + book.feesAccrued() + book.poolReceivable());
    }

    // ------------------------------------------------------------ defaults

    function testFuzz_markDefault_onlyAfterTheGracePeriod(uint256 paidInstallments, uint256 wait) public {
        uint256 loanId = _activeLoan();
        uint256 start = block.timestamp;
        paidInstallments = bound(paidInstallments, 0, 5);
        if (paidInstallments != 0) _repay(loanId, alice, book.cumulativeDue(loanId, paidInstallments));
        wait = bound(wait, 0, 400 days);
        vm.warp(start + wait);

        uint256 defaultableAfter = start + (paidInstallments + 1) * MONTH + 7 days;
        assertEq(book.defaultableAfter(loanId), defaultableAfter);
        if (block.timestamp <= defaultableAfter) {
            vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookDefaultTooEarly.selector, loanId, defaultableAfter));
            book.markDefault(loanId);
        } else {
            book.markDefault(loanId);
            _assertState(loanId, LoanBook.LoanState.Defaulted);
        }
    }

    function testFuzz_recovery_refillsThePoolBeforeLenders(uint256 prepaid, uint256 deposit, uint256 recovery) public {
        uint256 loanId = _defaultAfterPrepaying(prepaid, deposit);
        prepaid = book.getLoan(loanId).repaid;
        uint256 distributedBefore = book.distributed(loanId);
        uint256 receivableBefore = book.poolReceivable();
        recovery = bound(recovery, 1, 1_060 * USD - prepaid);
        _repay(loanId, alice, recovery);

        uint256 toPool = book.poolReceivable() - receivableBefore;
        // Not a difference: a payment of a base unit or two can carry more fee and premium than
        // itself, and `distributed` then steps down by one.
        uint256 distributedAfter = book.distributed(loanId);
        LoanBook.Loan memory loan = book.getLoan(loanId);
        assertLe(loan.recovered, loan.covered, "the pool never recovers more than it covered");
        if (loan.recovered < loan.covered) {
            assertLe(distributedAfter, distributedBefore, "lenders wait until the pool is whole");
        }
        uint256 fee = _feesFor(prepaid + recovery, 1_000 * USD, 1_060 * USD, 1_000)
            - _feesFor(prepaid, 1_000 * USD, 1_060 * USD, 1_000);
        assertEq(toPool + distributedAfter + fee, recovery + distributedBefore, "every base unit is accounted for");
    }

    // ------------------------------------------------------------ pool

    function testFuzz_pool_roundTripNeverProfits(uint256 first, uint256 second) public {
        first = bound(first, 1, 1_000_000 * USD);
        second = bound(second, 1, 1_000_000 * USD);
        _mint(erin, first);
        _mint(dave, second);
        _deposit(erin, first);
        uint256 shares = _deposit(dave, second);
        vm.prank(dave);
        pool.requestWithdraw(shares);
        vm.warp(block.timestamp + 7 days);
        vm.prank(dave);
        assertLe(pool.redeem(shares, dave, dave), second, "no free money");
    }

    // ------------------------------------------------------------ helpers

    function _openLoan(uint256 principal, uint256 totalDue, uint16 n) internal returns (uint256) {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.principal = principal;
        a.totalDue = totalDue;
        a.installments = n;
        return _open(a);
    }

    /// A drawn-down loan funded by `lenderCount` lenders in pseudo-random unequal parts.
    function _activeLoanWith(uint256 principal, uint256 totalDue, uint16 n, uint256 lenderCount)
        internal
        returns (uint256 loanId)
    {
        vm.prank(admin);
        book.setMinTicket(1);
        loanId = _openLoan(principal, totalDue, n);
        address[] memory lenders = _lenders(lenderCount);
        uint256 left = principal;
        for (uint256 i; i < lenderCount; ++i) {
            uint256 amount = i == lenderCount - 1
                ? left
                : bound(uint256(keccak256(abi.encode(principal, i))), 1, left - (lenderCount - 1 - i));
            _mint(lenders[i], amount);
            _fund(loanId, lenders[i], amount);
            left -= amount;
        }
        vm.prank(alice);
        book.drawdown(loanId);
    }

    /// The default loan after `prepaid` (bounded to leave an instalment unpaid), defaulted with
    /// `deposit` in the pool; checks the cover is min(50% of outstanding principal, pool cash).
    function _defaultAfterPrepaying(uint256 prepaid, uint256 deposit) internal returns (uint256 loanId) {
        deposit = bound(deposit, 0, 2_000 * USD);
        if (deposit != 0) _deposit(erin, deposit);
        loanId = _activeLoan();
        prepaid = bound(prepaid, 0, book.cumulativeDue(loanId, 5));
        if (prepaid != 0) _repay(loanId, alice, prepaid);
        vm.warp(book.defaultableAfter(loanId) + 1);
        uint256 halfOutstanding = book.outstandingPrincipal(loanId) / 2;
        uint256 poolCash = stable.balanceOf(address(pool)) + book.poolReceivable();
        uint256 cover = book.markDefault(loanId);
        assertEq(cover, halfOutstanding < poolCash ? halfOutstanding : poolCash, "cover = min(50%, pool)");
    }

    /// Repays the loan in the fuzzed chunks and then the rest; returns the fees and premiums charged,
    /// checking that no payment is charged more than its interest part.
    function _repayInChunks(uint256 loanId, uint256 interest, uint256 totalDue, uint256[6] memory payments)
        internal
        returns (uint256 fees, uint256 premiums)
    {
        for (uint256 i; i <= payments.length; ++i) {
            uint256 owed = totalDue - book.getLoan(loanId).repaid;
            if (owed == 0) break;
            uint256 amount = i == payments.length ? owed : bound(payments[i], 1, owed);
            uint256 chargesBefore = book.feesAccrued() + book.poolReceivable();
            fees -= book.feesAccrued();
            _repay(loanId, alice, amount);
            fees += book.feesAccrued();
            uint256 charges = book.feesAccrued() + book.poolReceivable() - chargesBefore;
            // Fee and premium are each floored on the cumulative interest, so one payment may carry
            // one base unit left over by earlier ones; cumulatively they never exceed the interest.
            assertLe(charges, (amount * interest + totalDue - 1) / totalDue + 1, "charges from interest only");
            _assertChargesWithinInterestPaid(loanId, interest, totalDue);
        }
        premiums = book.poolReceivable();
    }

    function _assertChargesWithinInterestPaid(uint256 loanId, uint256 interest, uint256 totalDue) internal view {
        uint256 interestPaid = book.getLoan(loanId).repaid * interest / totalDue;
        assertLe(book.feesAccrued() + book.poolReceivable(), interestPaid, "charges never exceed the interest paid");
    }

    function _lenders(uint256 count) internal returns (address[] memory lenders) {
        lenders = new address[](count);
        for (uint256 i; i < count; ++i) {
            lenders[i] = makeAddr(string(abi.encodePacked("lender", bytes1(uint8(65 + i)))));
            vm.prank(lenders[i]);
            stable.approve(address(book), type(uint256).max);
            _mint(lenders[i], MAX_PRINCIPAL);
        }
    }

    function _claimAll(uint256 loanId, uint256 lenderCount) internal returns (uint256 total) {
        for (uint256 i; i < lenderCount; ++i) {
            address lender = makeAddr(string(abi.encodePacked("lender", bytes1(uint8(65 + i)))));
            uint256 amount = book.claimable(loanId, lender);
            if (amount == 0) continue;
            vm.prank(lender);
            total += book.claim(loanId);
        }
    }
}
