// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {LoanBook} from "../src/LoanBook.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice openLoan, fund, fundWithPermit, cancel, expire, refund, drawdown.
contract LoanBookListingTest is Fixture {
    // ------------------------------------------------------------ openLoan

    function test_openLoan_storesTheLoanAndEmits() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        bytes memory signature = _signApproval(a);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.LoanOpened(1, alice, a.nonce, a.principal, a.totalDue, 6, MONTH, a.fundingDeadline, 2);
        vm.prank(alice);
        uint256 loanId = book.openLoan(a, signature);

        assertEq(loanId, 1);
        LoanBook.Loan memory loan = book.getLoan(loanId);
        assertEq(uint256(loan.state), uint256(LoanBook.LoanState.Funding));
        assertEq(loan.borrower, alice);
        assertEq(loan.principal, 1_000 * USD);
        assertEq(loan.totalDue, 1_060 * USD);
        assertEq(loan.installments, 6);
        assertEq(loan.interval, MONTH);
        assertEq(loan.fundingDeadline, a.fundingDeadline);
        assertEq(loan.grade, 2);
        assertEq(loan.feeBps, book.platformFeeBps());
        assertEq(loan.premiumBps, book.premiumBps());
        assertEq(loan.coverBps, book.coverBps());
        assertEq(loan.gracePeriod, book.gracePeriod());
        assertEq(loan.start, 0);
        assertTrue(book.isNonceUsed(a.nonce));
        assertEq(book.loanCount(), 1);
    }

    function test_openLoan_idsAreSequentialFromOne() public {
        assertEq(book.loanCount(), 0);
        assertEq(_openDefault(), 1);
        assertEq(_open(_approval(bob)), 2);
        assertEq(_openDefault(), 3);
        assertEq(book.loanCount(), 3);
    }

    function test_openLoan_termsDoNotChangeWithLaterParameters() public {
        uint256 loanId = _openDefault();
        vm.startPrank(admin);
        book.setPlatformFeeBps(2_000);
        book.setPremiumBps(500);
        book.setCoverBps(9_000);
        book.setGracePeriod(1 days);
        vm.stopPrank();
        LoanBook.Loan memory loan = book.getLoan(loanId);
        assertEq(loan.feeBps, 1_000);
        assertEq(loan.premiumBps, 1_000);
        assertEq(loan.coverBps, 5_000);
        assertEq(loan.gracePeriod, 7 days);
        assertEq(book.getLoan(_openDefault()).feeBps, 2_000);
    }

    function test_openLoan_revertsWhenCallerIsNotBorrower() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        bytes memory signature = _signApproval(a);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookCallerNotBorrower.selector, bob, alice));
        vm.prank(bob);
        book.openLoan(a, signature);
    }

    function test_openLoan_revertsWhenApprovalExpired() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        bytes memory signature = _signApproval(a);
        vm.warp(a.expiry + 1);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookApprovalExpired.selector, a.nonce, a.expiry));
        vm.prank(alice);
        book.openLoan(a, signature);
    }

    function test_openLoan_acceptsApprovalAtItsExpiry() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        vm.warp(a.expiry);
        assertEq(_open(a), 1);
    }

    function test_openLoan_revertsWhenNonceUsed() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        _open(a);
        bytes memory signature = _signApproval(a);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNonceUsed.selector, a.nonce));
        vm.prank(alice);
        book.openLoan(a, signature);
    }

    function test_openLoan_revertsWhenSignerIsNotUnderwriter() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        (address mallory, uint256 malloryKey) = makeAccount("mallory");
        bytes memory signature = _sign(malloryKey, _approvalDigest(a));
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookInvalidUnderwriter.selector, mallory));
        vm.prank(alice);
        book.openLoan(a, signature);
    }

    function test_openLoan_revertsWhenTermsDifferFromTheSignedOnes() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        bytes memory signature = _signApproval(a);
        a.principal = 900 * USD;
        // The signature now recovers to some unrelated address, which is no underwriter.
        address recovered =
            ecrecover(_approvalDigest(a), uint8(signature[64]), _word(signature, 0), _word(signature, 32));
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookInvalidUnderwriter.selector, recovered));
        vm.prank(alice);
        book.openLoan(a, signature);
    }

    function test_openLoan_revertsWhenSignatureMalformed() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        vm.expectRevert(LoanBook.LoanBookInvalidSignature.selector);
        vm.prank(alice);
        book.openLoan(a, hex"1234");
    }

    function test_openLoan_revertsWhenUnderwriterRoleRevoked() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        bytes memory signature = _signApproval(a);
        vm.startPrank(admin);
        book.revokeRole(book.UNDERWRITER_ROLE(), underwriter);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookInvalidUnderwriter.selector, underwriter));
        vm.prank(alice);
        book.openLoan(a, signature);
    }

    function test_openLoan_revertsWhenZeroPrincipal() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.principal = 0;
        _expectOpenRevert(a, abi.encodeWithSelector(LoanBook.LoanBookZeroPrincipal.selector));
    }

    function test_openLoan_revertsWhenTotalDueBelowPrincipal() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.totalDue = a.principal - 1;
        _expectOpenRevert(
            a, abi.encodeWithSelector(LoanBook.LoanBookTotalDueBelowPrincipal.selector, a.totalDue, a.principal)
        );
    }

    function test_openLoan_acceptsZeroInterest() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.totalDue = a.principal;
        assertEq(_open(a), 1);
    }

    function test_openLoan_revertsWhenAmountTooLarge() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.totalDue = uint256(type(uint96).max) + 1;
        _expectOpenRevert(a, abi.encodeWithSelector(LoanBook.LoanBookAmountTooLarge.selector, a.totalDue));
    }

    function test_openLoan_revertsWhenZeroInstallments() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.installments = 0;
        _expectOpenRevert(a, abi.encodeWithSelector(LoanBook.LoanBookZeroInstallments.selector));
    }

    function test_openLoan_revertsWhenZeroInterval() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.interval = 0;
        _expectOpenRevert(a, abi.encodeWithSelector(LoanBook.LoanBookZeroInterval.selector));
    }

    function test_openLoan_revertsWhenFundingDeadlineNotInTheFuture() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.fundingDeadline = uint64(block.timestamp);
        _expectOpenRevert(
            a, abi.encodeWithSelector(LoanBook.LoanBookInvalidFundingDeadline.selector, a.fundingDeadline)
        );
    }

    function test_openLoan_revertsWhenFundingDeadlineBeyondUint40() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.fundingDeadline = uint64(type(uint40).max) + 1;
        _expectOpenRevert(
            a, abi.encodeWithSelector(LoanBook.LoanBookInvalidFundingDeadline.selector, a.fundingDeadline)
        );
    }

    function test_openLoan_revertsWhenPaused() public {
        vm.prank(admin);
        book.pause();
        _expectOpenRevert(_approval(alice), abi.encodeWithSelector(Pausable.EnforcedPause.selector));
    }

    function test_hashLoanApproval_matchesEip712() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        assertEq(book.hashLoanApproval(a), _approvalDigest(a));
    }

    // ------------------------------------------------------------ fund

    function test_fund_recordsThePositionAndEmits() public {
        uint256 loanId = _openDefault();
        uint256 before = stable.balanceOf(bob);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Funded(loanId, bob, 300 * USD, 300 * USD);
        assertEq(_fund(loanId, bob, 300 * USD), 300 * USD);

        (uint256 funded, uint256 claimed) = book.positionOf(loanId, bob);
        assertEq(funded, 300 * USD);
        assertEq(claimed, 0);
        assertEq(book.getLoan(loanId).funded, 300 * USD);
        assertEq(stable.balanceOf(bob), before - 300 * USD);
        assertEq(stable.balanceOf(address(book)), 300 * USD);
        _assertState(loanId, LoanBook.LoanState.Funding);
    }

    function test_fund_sameLenderTwiceAddsUp() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        _fund(loanId, bob, 200 * USD);
        (uint256 funded,) = book.positionOf(loanId, bob);
        assertEq(funded, 500 * USD);
    }

    function test_fund_takesOnlyTheRemainder() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 700 * USD);
        uint256 before = stable.balanceOf(carol);
        assertEq(_fund(loanId, carol, 500 * USD), 300 * USD);
        assertEq(stable.balanceOf(carol), before - 300 * USD);
        (uint256 funded,) = book.positionOf(loanId, carol);
        assertEq(funded, 300 * USD);
    }

    function test_fund_completesFundingAndEmits() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 600 * USD);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Funded(loanId, carol, 400 * USD, 1_000 * USD);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.FundingCompleted(loanId, 1_000 * USD);
        _fund(loanId, carol, 400 * USD);
        _assertState(loanId, LoanBook.LoanState.Funded);
    }

    function test_fund_acceptsRemainderBelowMinTicket() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD - 1);
        assertEq(_fund(loanId, carol, 1), 1);
        _assertState(loanId, LoanBook.LoanState.Funded);
    }

    function test_fund_acceptsOfferAboveRemainderBelowMinTicket() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 995 * USD);
        assertEq(_fund(loanId, carol, 50 * USD), 5 * USD);
    }

    function test_fund_revertsWhenBelowMinTicket() public {
        uint256 loanId = _openDefault();
        uint256 ticket = book.minTicket();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookBelowMinTicket.selector, loanId, ticket - 1, ticket));
        _fund(loanId, bob, ticket - 1);
    }

    function test_fund_revertsWhenZeroAmount() public {
        uint256 loanId = _openDefault();
        vm.expectRevert(LoanBook.LoanBookZeroAmount.selector);
        _fund(loanId, bob, 0);
    }

    function test_fund_revertsWhenBorrowerFundsOwnLoan() public {
        uint256 loanId = _openDefault();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookBorrowerCannotFund.selector, loanId));
        _fund(loanId, alice, 100 * USD);
    }

    function test_fund_revertsWhenExpired() public {
        uint256 loanId = _openDefault();
        uint256 deadline = book.getLoan(loanId).fundingDeadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookFundingExpired.selector, loanId, deadline));
        _fund(loanId, bob, 100 * USD);
    }

    function test_fund_acceptsAtTheDeadline() public {
        uint256 loanId = _openDefault();
        vm.warp(book.getLoan(loanId).fundingDeadline);
        assertEq(_fund(loanId, bob, 100 * USD), 100 * USD);
    }

    function test_fund_revertsWhenFullyFunded() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookFundingClosed.selector, loanId));
        _fund(loanId, carol, 100 * USD);
    }

    function test_fund_revertsWhenLoanUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookFundingClosed.selector, 42));
        _fund(42, bob, 100 * USD);
    }

    function test_fund_revertsWhenCancelled() public {
        uint256 loanId = _openDefault();
        vm.prank(alice);
        book.cancel(loanId);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookFundingClosed.selector, loanId));
        _fund(loanId, bob, 100 * USD);
    }

    function test_fund_revertsWhenPaused() public {
        uint256 loanId = _openDefault();
        vm.prank(admin);
        book.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        _fund(loanId, bob, 100 * USD);
    }

    function test_fund_revertsWithoutAllowance() public {
        uint256 loanId = _openDefault();
        vm.prank(bob);
        stable.approve(address(book), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(book), 0, 100 * USD)
        );
        _fund(loanId, bob, 100 * USD);
    }

    // ------------------------------------------------------------ fundWithPermit

    function test_fundWithPermit_fundsInOneTransaction() public {
        uint256 loanId = _openDefault();
        (address frank, uint256 frankKey) = makeAccount("frank");
        _mint(frank, 500 * USD);
        (uint8 v, bytes32 r, bytes32 s) = _permit(frankKey, frank, 500 * USD, block.timestamp + 1 hours);
        vm.prank(frank);
        assertEq(book.fundWithPermit(loanId, 500 * USD, block.timestamp + 1 hours, v, r, s), 500 * USD);
        (uint256 funded,) = book.positionOf(loanId, frank);
        assertEq(funded, 500 * USD);
        assertEq(stable.balanceOf(frank), 0);
    }

    function test_fundWithPermit_survivesAFrontRunPermit() public {
        uint256 loanId = _openDefault();
        (address frank, uint256 frankKey) = makeAccount("frank");
        _mint(frank, 500 * USD);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _permit(frankKey, frank, 500 * USD, deadline);
        // Someone copies the permit from the mempool and lands it first.
        vm.prank(bob);
        stable.permit(frank, address(book), 500 * USD, deadline, v, r, s);
        vm.prank(frank);
        assertEq(book.fundWithPermit(loanId, 500 * USD, deadline, v, r, s), 500 * USD);
    }

    function test_fundWithPermit_revertsWhenPermitInvalidAndNoAllowance() public {
        uint256 loanId = _openDefault();
        (address frank,) = makeAccount("frank");
        _mint(frank, 500 * USD);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(book), 0, 500 * USD)
        );
        vm.prank(frank);
        book.fundWithPermit(loanId, 500 * USD, block.timestamp, 27, bytes32(uint256(1)), bytes32(uint256(2)));
    }

    function test_fundWithPermit_revertsWhenPaused() public {
        uint256 loanId = _openDefault();
        vm.prank(admin);
        book.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(bob);
        book.fundWithPermit(loanId, 100 * USD, block.timestamp, 27, bytes32(0), bytes32(0));
    }

    // ------------------------------------------------------------ cancel

    function test_cancel_whileFundingLetsLendersRefund() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.LoanCancelled(loanId, alice, 300 * USD);
        vm.prank(alice);
        book.cancel(loanId);
        _assertState(loanId, LoanBook.LoanState.Cancelled);

        uint256 before = stable.balanceOf(bob);
        vm.prank(bob);
        assertEq(book.refund(loanId), 300 * USD);
        assertEq(stable.balanceOf(bob), before + 300 * USD);
    }

    function test_cancel_whenFundedBeforeDrawdown() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.prank(alice);
        book.cancel(loanId);
        _assertState(loanId, LoanBook.LoanState.Cancelled);
    }

    function test_cancel_revertsWhenCallerIsNotBorrower() public {
        uint256 loanId = _openDefault();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookCallerNotBorrower.selector, bob, alice));
        vm.prank(bob);
        book.cancel(loanId);
    }

    function test_cancel_revertsWhenActive() public {
        uint256 loanId = _activeLoan();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotCancellable.selector, loanId));
        vm.prank(alice);
        book.cancel(loanId);
    }

    function test_cancel_revertsWhenAlreadyCancelled() public {
        uint256 loanId = _openDefault();
        vm.prank(alice);
        book.cancel(loanId);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotCancellable.selector, loanId));
        vm.prank(alice);
        book.cancel(loanId);
    }

    function test_cancel_revertsWhenPaused() public {
        uint256 loanId = _openDefault();
        vm.prank(admin);
        book.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(alice);
        book.cancel(loanId);
    }

    // ------------------------------------------------------------ expire

    function test_expire_afterTheFundingDeadline() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        vm.warp(book.getLoan(loanId).fundingDeadline + 1);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.LoanExpired(loanId, 300 * USD);
        vm.prank(dave);
        book.expire(loanId);
        _assertState(loanId, LoanBook.LoanState.Expired);
    }

    function test_expire_fundedLoanNotDrawnDownInTime() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.warp(book.getLoan(loanId).fundingDeadline + book.drawdownWindow() + 1);
        book.expire(loanId);
        _assertState(loanId, LoanBook.LoanState.Expired);
    }

    function test_expire_revertsBeforeTheDeadline() public {
        uint256 loanId = _openDefault();
        vm.warp(book.getLoan(loanId).fundingDeadline);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotExpirable.selector, loanId));
        book.expire(loanId);
    }

    function test_expire_revertsWhenFundedWithinTheDrawdownWindow() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.warp(book.getLoan(loanId).fundingDeadline + book.drawdownWindow());
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotExpirable.selector, loanId));
        book.expire(loanId);
    }

    function test_expire_revertsWhenActive() public {
        uint256 loanId = _activeLoan();
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotExpirable.selector, loanId));
        book.expire(loanId);
    }

    function test_expire_revertsWhenPaused() public {
        uint256 loanId = _openDefault();
        vm.warp(book.getLoan(loanId).fundingDeadline + 1);
        vm.prank(admin);
        book.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        book.expire(loanId);
    }

    // ------------------------------------------------------------ refund

    function test_refund_expiresALoanPastItsDeadline() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        _fund(loanId, carol, 200 * USD);
        vm.warp(book.getLoan(loanId).fundingDeadline + 1);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.LoanExpired(loanId, 500 * USD);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Refunded(loanId, bob, 300 * USD);
        vm.prank(bob);
        book.refund(loanId);
        _assertState(loanId, LoanBook.LoanState.Expired);

        vm.prank(carol);
        assertEq(book.refund(loanId), 200 * USD);
        assertEq(stable.balanceOf(address(book)), 0);
        (uint256 funded, uint256 claimed) = book.positionOf(loanId, carol);
        assertEq(funded, 200 * USD);
        assertEq(claimed, 200 * USD);
    }

    function test_refund_worksWhilePaused() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        vm.prank(alice);
        book.cancel(loanId);
        vm.prank(admin);
        book.pause();
        vm.prank(bob);
        assertEq(book.refund(loanId), 300 * USD);
    }

    function test_refund_revertsWhileFundingIsOpen() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotRefundable.selector, loanId));
        vm.prank(bob);
        book.refund(loanId);
    }

    function test_refund_revertsWhenActive() public {
        uint256 loanId = _activeLoan();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotRefundable.selector, loanId));
        vm.prank(bob);
        book.refund(loanId);
    }

    function test_refund_revertsWhenNothingToRefund() public {
        uint256 loanId = _openDefault();
        vm.prank(alice);
        book.cancel(loanId);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNothingToRefund.selector, loanId, dave));
        vm.prank(dave);
        book.refund(loanId);
    }

    function test_refund_revertsWhenAlreadyRefunded() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        vm.prank(alice);
        book.cancel(loanId);
        vm.prank(bob);
        book.refund(loanId);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNothingToRefund.selector, loanId, bob));
        vm.prank(bob);
        book.refund(loanId);
    }

    // ------------------------------------------------------------ drawdown

    function test_drawdown_sendsPrincipalAndStartsTheSchedule() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.warp(block.timestamp + 2 days);
        uint256 before = stable.balanceOf(alice);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.DrawnDown(loanId, alice, 1_000 * USD, block.timestamp);
        vm.prank(alice);
        book.drawdown(loanId);

        assertEq(stable.balanceOf(alice), before + 1_000 * USD);
        assertEq(stable.balanceOf(address(book)), 0);
        _assertState(loanId, LoanBook.LoanState.Active);
        assertEq(book.getLoan(loanId).start, block.timestamp);
        assertEq(book.nextDueTime(loanId), block.timestamp + MONTH);
    }

    function test_drawdown_acceptsTheLastSecondOfTheWindow() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.warp(book.getLoan(loanId).fundingDeadline + book.drawdownWindow());
        vm.prank(alice);
        book.drawdown(loanId);
        _assertState(loanId, LoanBook.LoanState.Active);
    }

    function test_drawdown_revertsWhenCallerIsNotBorrower() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookCallerNotBorrower.selector, bob, alice));
        vm.prank(bob);
        book.drawdown(loanId);
    }

    function test_drawdown_revertsWhenNotFullyFunded() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 999 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotDrawable.selector, loanId));
        vm.prank(alice);
        book.drawdown(loanId);
    }

    function test_drawdown_revertsWhenAlreadyDrawn() public {
        uint256 loanId = _activeLoan();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotDrawable.selector, loanId));
        vm.prank(alice);
        book.drawdown(loanId);
    }

    function test_drawdown_revertsAfterTheDrawdownWindow() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        uint256 drawdownDeadline = book.getLoan(loanId).fundingDeadline + book.drawdownWindow();
        vm.warp(drawdownDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookDrawdownExpired.selector, loanId, drawdownDeadline));
        vm.prank(alice);
        book.drawdown(loanId);
    }

    function test_drawdown_revertsWhenPaused() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.prank(admin);
        book.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(alice);
        book.drawdown(loanId);
    }

    // ------------------------------------------------------------ pause roles

    function test_pause_revertsWhenCallerIsNotPauser() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, book.PAUSER_ROLE())
        );
        vm.prank(bob);
        book.pause();
    }

    function test_unpause_resumesBusiness() public {
        vm.startPrank(admin);
        book.pause();
        book.unpause();
        vm.stopPrank();
        assertEq(_openDefault(), 1);
    }

    function test_unpause_revertsWhenCallerIsNotPauser() public {
        vm.prank(admin);
        book.pause();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, book.PAUSER_ROLE())
        );
        vm.prank(bob);
        book.unpause();
    }

    // ------------------------------------------------------------ helpers

    function _expectOpenRevert(LoanBook.LoanApproval memory a, bytes memory revertData) internal {
        bytes memory signature = _signApproval(a);
        vm.expectRevert(revertData);
        vm.prank(a.borrower);
        book.openLoan(a, signature);
    }

    function _permit(uint256 key, address owner, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8, bytes32, bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                address(book),
                value,
                stable.nonces(owner),
                deadline
            )
        );
        return vm.sign(key, keccak256(abi.encodePacked("\x19\x01", stable.DOMAIN_SEPARATOR(), structHash)));
    }

    function _word(bytes memory data, uint256 offset) internal pure returns (bytes32 word) {
        assembly {
            word := mload(add(add(data, 0x20), offset))
        }
    }
}
