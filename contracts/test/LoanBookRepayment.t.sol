// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {LiquidityBackstopPool} from "../src/LiquidityBackstopPool.sol";
import {LoanBook} from "../src/LoanBook.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice repay, claim, claimMany, claimFees, markDefault, recoveries, the pool receivable, the
/// schedule views and the admin setters. The default loan: 1,000 USD for 1,060 over 6 months,
/// funded 600 by bob and 400 by carol; fee and premium 10% of interest each, cover 50%.
contract LoanBookRepaymentTest is Fixture {
    uint256 internal constant FIRST_INSTALLMENT = 176_666_666; // floor(1_060e6 / 6)

    // ------------------------------------------------------------ repay

    function test_repay_takesFeeAndPremiumFromTheInterestPartOnly() public {
        uint256 loanId = _activeLoan();
        // interest part floor(176_666_666 * 60 / 1060) = 9_999_999; 10% each, floored.
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Repaid(loanId, alice, FIRST_INSTALLMENT, FIRST_INSTALLMENT, 999_999, 999_999);
        assertEq(_repay(loanId, alice, FIRST_INSTALLMENT), FIRST_INSTALLMENT);

        assertEq(book.feesAccrued(), 999_999);
        assertEq(book.poolReceivable(), 999_999);
        assertEq(book.distributed(loanId), FIRST_INSTALLMENT - 2 * 999_999);
        assertEq(book.getLoan(loanId).repaid, FIRST_INSTALLMENT);
        assertEq(stable.balanceOf(address(book)), FIRST_INSTALLMENT);
        _assertState(loanId, LoanBook.LoanState.Active);
    }

    function test_repay_capsAtWhatIsOwed() public {
        uint256 loanId = _activeLoan();
        uint256 before = stable.balanceOf(alice);
        assertEq(_repay(loanId, alice, 5_000 * USD), 1_060 * USD);
        assertEq(stable.balanceOf(alice), before - 1_060 * USD);
    }

    function test_repay_inFullClosesTheLoan() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_000 * USD);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.LoanFullyRepaid(loanId);
        _repay(loanId, alice, 60 * USD);
        _assertState(loanId, LoanBook.LoanState.Repaid);
        assertEq(book.outstanding(loanId), 0);
        assertEq(book.outstandingPrincipal(loanId), 0);
        assertEq(book.nextDueTime(loanId), 0);
    }

    function test_repay_feesAddUpExactlyOverTheSchedule() public {
        uint256 loanId = _activeLoan();
        for (uint256 k = 1; k <= 6; ++k) {
            uint256 due = book.cumulativeDue(loanId, k) - book.getLoan(loanId).repaid;
            _repay(loanId, alice, due);
        }
        // 60 USD interest: exactly 6 USD fee, 6 USD premium, 1,048 USD for lenders.
        assertEq(book.feesAccrued(), 6 * USD);
        assertEq(book.poolReceivable(), 6 * USD);
        assertEq(book.distributed(loanId), 1_048 * USD);
        assertEq(book.claimable(loanId, bob), 628_800_000);
        assertEq(book.claimable(loanId, carol), 419_200_000);
    }

    function test_repay_zeroInterestLoanPaysNoFees() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.totalDue = a.principal;
        uint256 loanId = _open(a);
        _fund(loanId, bob, 1_000 * USD);
        vm.prank(alice);
        book.drawdown(loanId);
        _repay(loanId, alice, 1_000 * USD);
        assertEq(book.feesAccrued(), 0);
        assertEq(book.poolReceivable(), 0);
        assertEq(book.claimable(loanId, bob), 1_000 * USD);
    }

    function test_repay_byAThirdParty() public {
        uint256 loanId = _activeLoan();
        uint256 before = stable.balanceOf(dave);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Repaid(loanId, dave, FIRST_INSTALLMENT, FIRST_INSTALLMENT, 999_999, 999_999);
        _repay(loanId, dave, FIRST_INSTALLMENT);
        assertEq(stable.balanceOf(dave), before - FIRST_INSTALLMENT);
    }

    function test_repay_worksWhilePaused() public {
        uint256 loanId = _activeLoan();
        vm.prank(admin);
        book.pause();
        assertEq(_repay(loanId, alice, FIRST_INSTALLMENT), FIRST_INSTALLMENT);
    }

    function test_repay_revertsWhenZeroAmount() public {
        uint256 loanId = _activeLoan();
        vm.expectRevert(LoanBook.LoanBookZeroAmount.selector);
        _repay(loanId, alice, 0);
    }

    function test_repay_revertsBeforeDrawdown() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 1_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotRepayable.selector, loanId));
        _repay(loanId, alice, 100 * USD);
    }

    function test_repay_revertsWhenRepaid() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotRepayable.selector, loanId));
        _repay(loanId, alice, 1);
    }

    function test_repay_revertsWhenDefaultedLoanFullyRecovered() public {
        uint256 loanId = _defaultedLoan();
        _repay(loanId, alice, 2_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotRepayable.selector, loanId));
        _repay(loanId, alice, 1);
    }

    // ------------------------------------------------------------ claim

    function test_claim_paysTheProRataShare() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, FIRST_INSTALLMENT);
        uint256 distributable = FIRST_INSTALLMENT - 2 * 999_999; // 174_666_668
        uint256 bobShare = distributable * 600 / 1_000;
        uint256 before = stable.balanceOf(bob);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Claimed(loanId, bob, bobShare);
        vm.prank(bob);
        assertEq(book.claim(loanId), bobShare);
        assertEq(stable.balanceOf(bob), before + bobShare);
        (, uint256 claimed) = book.positionOf(loanId, bob);
        assertEq(claimed, bobShare);
        assertEq(book.claimable(loanId, bob), 0);

        vm.prank(carol);
        assertEq(book.claim(loanId), distributable * 400 / 1_000);
    }

    function test_claim_laterClaimsPayOnlyNewMoney() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, FIRST_INSTALLMENT);
        vm.prank(bob);
        uint256 first = book.claim(loanId);
        _repay(loanId, alice, 1_060 * USD);
        vm.prank(bob);
        uint256 second = book.claim(loanId);
        assertEq(first + second, 628_800_000);
    }

    function test_claim_worksWhilePaused() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, FIRST_INSTALLMENT);
        vm.prank(admin);
        book.pause();
        vm.prank(bob);
        assertTrue(book.claim(loanId) > 0);
    }

    function test_claim_revertsWhenNothingToClaim() public {
        uint256 loanId = _activeLoan();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNothingToClaim.selector, loanId, bob));
        vm.prank(bob);
        book.claim(loanId);
    }

    function test_claim_revertsForSomeoneWhoDidNotLend() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, FIRST_INSTALLMENT);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNothingToClaim.selector, loanId, dave));
        vm.prank(dave);
        book.claim(loanId);
    }

    function test_claim_revertsOnACancelledLoan() public {
        uint256 loanId = _openDefault();
        _fund(loanId, bob, 300 * USD);
        vm.prank(alice);
        book.cancel(loanId);
        assertEq(book.claimable(loanId, bob), 0);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNothingToClaim.selector, loanId, bob));
        vm.prank(bob);
        book.claim(loanId);
    }

    function test_claimMany_paysAcrossLoansInOneTransfer() public {
        uint256 first = _activeLoan();
        uint256 second = _activeLoan();
        _repay(first, alice, FIRST_INSTALLMENT);
        _repay(second, alice, 1_060 * USD);
        uint256 expected = book.claimable(first, bob) + book.claimable(second, bob);
        uint256[] memory ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (first, second, 99);
        uint256 before = stable.balanceOf(bob);
        vm.prank(bob);
        assertEq(book.claimMany(ids), expected);
        assertEq(stable.balanceOf(bob), before + expected);
        assertEq(book.claimable(first, bob) + book.claimable(second, bob), 0);
    }

    function test_claimMany_revertsWhenNothingClaimable() public {
        uint256 loanId = _activeLoan();
        uint256[] memory ids = new uint256[](1);
        ids[0] = loanId;
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNothingClaimable.selector, bob));
        vm.prank(bob);
        book.claimMany(ids);
    }

    // ------------------------------------------------------------ claimFees

    function test_claimFees_paysTheTreasury() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.FeesClaimed(treasury, 6 * USD);
        vm.prank(treasury);
        assertEq(book.claimFees(), 6 * USD);
        assertEq(stable.balanceOf(treasury), 6 * USD);
        assertEq(book.feesAccrued(), 0);
    }

    function test_claimFees_worksWhilePaused() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        vm.prank(admin);
        book.pause();
        vm.prank(treasury);
        assertEq(book.claimFees(), 6 * USD);
    }

    function test_claimFees_revertsWhenCallerIsNotTreasury() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookCallerNotTreasury.selector, bob));
        vm.prank(bob);
        book.claimFees();
    }

    function test_claimFees_revertsWhenNoFees() public {
        vm.expectRevert(LoanBook.LoanBookNoFees.selector);
        vm.prank(treasury);
        book.claimFees();
    }

    // ------------------------------------------------------------ pool receivable

    function test_pushPoolReceivable_sendsPremiumsToThePool() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        uint256 assetsBefore = pool.totalAssets();
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.PoolReceivablePushed(address(pool), 6 * USD);
        assertEq(book.pushPoolReceivable(), 6 * USD);
        assertEq(stable.balanceOf(address(pool)), 6 * USD);
        assertEq(book.poolReceivable(), 0);
        assertEq(pool.totalAssets(), assetsBefore);
    }

    function test_pushPoolReceivable_isANoOpWhenEmpty() public {
        assertEq(book.pushPoolReceivable(), 0);
    }

    function test_poolReceivableOf_isZeroForAnotherPool() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        assertEq(book.poolReceivableOf(address(pool)), 6 * USD);
        assertEq(book.poolReceivableOf(bob), 0);
    }

    // ------------------------------------------------------------ markDefault

    function test_markDefault_coversPartOfTheOutstandingPrincipal() public {
        _deposit(erin, 10_000 * USD);
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, FIRST_INSTALLMENT);
        // principal part of 176_666_666 is 176_666_666 - 9_999_999 = 166_666_667.
        uint256 outstandingPrincipal = 1_000 * USD - 166_666_667;
        assertEq(book.outstandingPrincipal(loanId), outstandingPrincipal);
        uint256 cover = outstandingPrincipal * 5_000 / BPS;

        vm.warp(book.defaultableAfter(loanId) + 1);
        vm.expectEmit(true, true, true, true, address(pool));
        emit LiquidityBackstopPool.LossCovered(address(book), loanId, cover);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Defaulted(loanId, outstandingPrincipal, cover);
        vm.prank(dave);
        assertEq(book.markDefault(loanId), cover);

        _assertState(loanId, LoanBook.LoanState.Defaulted);
        assertEq(book.getLoan(loanId).covered, cover);
        // The premium earned so far reached the pool before the cover left it.
        assertEq(book.poolReceivable(), 0);
        assertEq(stable.balanceOf(address(pool)), 10_000 * USD + 999_999 - cover);
        assertEq(book.distributed(loanId), FIRST_INSTALLMENT - 2 * 999_999 + cover);
        uint256 before = stable.balanceOf(bob);
        vm.prank(bob);
        book.claim(loanId);
        assertEq(stable.balanceOf(bob), before + (FIRST_INSTALLMENT - 2 * 999_999 + cover) * 600 / 1_000);
    }

    function test_markDefault_looksAtTheFirstUnpaidInstallment() public {
        uint256 loanId = _activeLoan();
        uint256 start = block.timestamp;
        _repay(loanId, alice, book.cumulativeDue(loanId, 2));
        assertEq(book.nextDueTime(loanId), start + 3 * MONTH);
        assertEq(book.defaultableAfter(loanId), start + 3 * MONTH + 7 days);
        vm.warp(start + 3 * MONTH + 7 days);
        vm.expectRevert(
            abi.encodeWithSelector(LoanBook.LoanBookDefaultTooEarly.selector, loanId, start + 3 * MONTH + 7 days)
        );
        book.markDefault(loanId);
        vm.warp(start + 3 * MONTH + 7 days + 1);
        book.markDefault(loanId);
        _assertState(loanId, LoanBook.LoanState.Defaulted);
    }

    function test_markDefault_capsCoverAtWhatThePoolHolds() public {
        _deposit(erin, 100 * USD);
        uint256 loanId = _activeLoan();
        vm.warp(book.defaultableAfter(loanId) + 1);
        assertEq(book.markDefault(loanId), 100 * USD);
        assertEq(stable.balanceOf(address(pool)), 0);
    }

    function test_markDefault_withoutAPoolCoversNothing() public {
        vm.prank(admin);
        book.setPool(address(0));
        uint256 loanId = _activeLoan();
        vm.warp(book.defaultableAfter(loanId) + 1);
        assertEq(book.markDefault(loanId), 0);
        _assertState(loanId, LoanBook.LoanState.Defaulted);
    }

    function test_markDefault_revertsBeforeTheGracePeriodEnds() public {
        uint256 loanId = _activeLoan();
        uint256 defaultableAfter = block.timestamp + MONTH + 7 days;
        vm.warp(defaultableAfter);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookDefaultTooEarly.selector, loanId, defaultableAfter));
        book.markDefault(loanId);
    }

    function test_markDefault_revertsWhenNotActive() public {
        uint256 loanId = _openDefault();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotActive.selector, loanId));
        book.markDefault(loanId);
    }

    function test_markDefault_revertsWhenAlreadyDefaulted() public {
        uint256 loanId = _defaultedLoan();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookNotActive.selector, loanId));
        book.markDefault(loanId);
    }

    function test_markDefault_revertsWhenPaused() public {
        uint256 loanId = _activeLoan();
        vm.warp(book.defaultableAfter(loanId) + 1);
        vm.prank(admin);
        book.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        book.markDefault(loanId);
    }

    // ------------------------------------------------------------ recoveries

    function test_repay_afterDefaultRefillsThePoolFirst() public {
        uint256 loanId = _defaultedLoan(); // cover 500 USD, nothing repaid before
        uint256 distributedBefore = book.distributed(loanId);
        // 106 USD: interest part 6, fee 0.6, premium 0.6; 104.8 to lenders, all of it to the pool.
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.Recovered(loanId, alice, 106 * USD, 104_800_000, 0);
        _repay(loanId, alice, 106 * USD);
        assertEq(book.getLoan(loanId).recovered, 104_800_000);
        assertEq(book.poolReceivable(), 104_800_000 + 600_000);
        assertEq(book.distributed(loanId), distributedBefore);
        _assertState(loanId, LoanBook.LoanState.Defaulted);
    }

    function test_repay_afterDefaultBeyondTheCoverGoesToLenders() public {
        uint256 loanId = _defaultedLoan();
        _repay(loanId, alice, 1_060 * USD);
        LoanBook.Loan memory loan = book.getLoan(loanId);
        assertEq(loan.recovered, loan.covered);
        // Lenders end with everything a healthy loan would have paid them.
        assertEq(book.distributed(loanId), 1_048 * USD);
        assertEq(book.claimable(loanId, bob) + book.claimable(loanId, carol), 1_048 * USD);
        assertEq(book.poolReceivable(), 500 * USD + 6 * USD);
    }

    // ------------------------------------------------------------ schedule views

    function test_cumulativeDue_isTheFloorAndTheLastIsTotalDue() public {
        LoanBook.LoanApproval memory a = _approval(alice);
        a.totalDue = 1_000_000_007;
        a.installments = 7;
        uint256 loanId = _open(a);
        for (uint256 k; k <= 7; ++k) {
            assertEq(book.cumulativeDue(loanId, k), a.totalDue * k / 7);
        }
        assertEq(book.cumulativeDue(loanId, 7), a.totalDue);
    }

    function test_cumulativeDue_revertsPastTheLastInstallment() public {
        uint256 loanId = _openDefault();
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookInstallmentOutOfRange.selector, loanId, 7, 6));
        book.cumulativeDue(loanId, 7);
    }

    function test_cumulativeDue_revertsForAnUnknownLoan() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookUnknownLoan.selector, 5));
        book.cumulativeDue(5, 0);
    }

    function test_dueNow_followsTheSchedule() public {
        uint256 loanId = _activeLoan();
        uint256 start = block.timestamp;
        assertEq(book.dueNow(loanId), 0);
        vm.warp(start + MONTH - 1);
        assertEq(book.dueNow(loanId), 0);
        vm.warp(start + MONTH);
        assertEq(book.dueNow(loanId), FIRST_INSTALLMENT);
        _repay(loanId, alice, 100 * USD);
        assertEq(book.dueNow(loanId), FIRST_INSTALLMENT - 100 * USD);
        vm.warp(start + 20 * MONTH);
        assertEq(book.dueNow(loanId), 960 * USD);
    }

    function test_views_areZeroForALoanThatIsNotRunning() public {
        uint256 loanId = _openDefault();
        assertEq(book.dueNow(loanId), 0);
        assertEq(book.nextDueTime(loanId), 0);
        assertEq(book.defaultableAfter(loanId), 0);
        assertEq(book.outstanding(loanId), 0);
        assertEq(book.outstandingPrincipal(loanId), 0);
        assertEq(book.distributed(loanId), 0);
    }

    function test_outstanding_tracksRepayments() public {
        uint256 loanId = _activeLoan();
        assertEq(book.outstanding(loanId), 1_060 * USD);
        assertEq(book.outstandingPrincipal(loanId), 1_000 * USD);
        _repay(loanId, alice, 530 * USD);
        assertEq(book.outstanding(loanId), 530 * USD);
        assertEq(book.outstandingPrincipal(loanId), 500 * USD);
    }

    // ------------------------------------------------------------ admin

    function test_setters_updateAndEmit() public {
        vm.startPrank(admin);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.PlatformFeeBpsSet(admin, 1_000, 1_500);
        book.setPlatformFeeBps(1_500);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.PremiumBpsSet(admin, 1_000, 700);
        book.setPremiumBps(700);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.CoverBpsSet(admin, 5_000, 10_000);
        book.setCoverBps(10_000);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.GracePeriodSet(admin, 7 days, 3 days);
        book.setGracePeriod(3 days);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.DrawdownWindowSet(admin, 7 days, 2 days);
        book.setDrawdownWindow(2 days);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.MinTicketSet(admin, 10 * USD, 50 * USD);
        book.setMinTicket(uint64(50 * USD));
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.TreasurySet(admin, treasury, dave);
        book.setTreasury(dave);
        vm.stopPrank();

        assertEq(book.platformFeeBps(), 1_500);
        assertEq(book.premiumBps(), 700);
        assertEq(book.coverBps(), 10_000);
        assertEq(book.gracePeriod(), 3 days);
        assertEq(book.drawdownWindow(), 2 days);
        assertEq(book.minTicket(), 50 * USD);
        assertEq(book.treasury(), dave);
    }

    function test_setTreasury_movesAccruedFeesToTheNewTreasury() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        vm.prank(admin);
        book.setTreasury(dave);
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookCallerNotTreasury.selector, treasury));
        vm.prank(treasury);
        book.claimFees();
        vm.prank(dave);
        assertEq(book.claimFees(), 6 * USD);
    }

    function test_setPool_pushesWhatIsHeldToTheOldPool() public {
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        LiquidityBackstopPool newPool = new LiquidityBackstopPool(IERC20(address(stable)), admin);
        vm.expectEmit(true, true, true, true, address(book));
        emit LoanBook.PoolSet(admin, address(pool), address(newPool));
        vm.prank(admin);
        book.setPool(address(newPool));
        assertEq(stable.balanceOf(address(pool)), 6 * USD);
        assertEq(book.poolReceivable(), 0);
        assertEq(book.pool(), address(newPool));
    }

    function test_setPlatformFeeBps_revertsWhenTooHigh() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookBpsTooHigh.selector, 5_001, 5_000));
        vm.prank(admin);
        book.setPlatformFeeBps(5_001);
    }

    function test_setPremiumBps_revertsWhenTooHigh() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookBpsTooHigh.selector, 5_001, 5_000));
        vm.prank(admin);
        book.setPremiumBps(5_001);
    }

    function test_setCoverBps_revertsWhenTooHigh() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookBpsTooHigh.selector, 10_001, 10_000));
        vm.prank(admin);
        book.setCoverBps(10_001);
    }

    function test_setGracePeriod_revertsWhenTooLong() public {
        vm.expectRevert(abi.encodeWithSelector(LoanBook.LoanBookGracePeriodTooLong.selector, 181 days, 180 days));
        vm.prank(admin);
        book.setGracePeriod(181 days);
    }

    function test_setDrawdownWindow_revertsWhenTooShort() public {
        vm.expectRevert(
            abi.encodeWithSelector(LoanBook.LoanBookDrawdownWindowOutOfRange.selector, 59 minutes, 1 hours, 90 days)
        );
        vm.prank(admin);
        book.setDrawdownWindow(59 minutes);
    }

    function test_setDrawdownWindow_revertsWhenTooLong() public {
        vm.expectRevert(
            abi.encodeWithSelector(LoanBook.LoanBookDrawdownWindowOutOfRange.selector, 91 days, 1 hours, 90 days)
        );
        vm.prank(admin);
        book.setDrawdownWindow(91 days);
    }

    function test_setTreasury_revertsWhenZero() public {
        vm.expectRevert(LoanBook.LoanBookZeroAddress.selector);
        vm.prank(admin);
        book.setTreasury(address(0));
    }

    function test_setters_revertWhenCallerIsNotAdmin() public {
        bytes memory unauthorized = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector, bob, book.DEFAULT_ADMIN_ROLE()
        );
        vm.startPrank(bob);
        vm.expectRevert(unauthorized);
        book.setPlatformFeeBps(1);
        vm.expectRevert(unauthorized);
        book.setPremiumBps(1);
        vm.expectRevert(unauthorized);
        book.setCoverBps(1);
        vm.expectRevert(unauthorized);
        book.setGracePeriod(1);
        vm.expectRevert(unauthorized);
        book.setDrawdownWindow(1 days);
        vm.expectRevert(unauthorized);
        book.setMinTicket(1);
        vm.expectRevert(unauthorized);
        book.setTreasury(bob);
        vm.expectRevert(unauthorized);
        book.setPool(bob);
        vm.stopPrank();
    }

    function test_constructor_revertsOnZeroAddresses() public {
        vm.expectRevert(LoanBook.LoanBookZeroAddress.selector);
        new LoanBook(IERC20(address(0)), admin, treasury, address(pool));
        vm.expectRevert(LoanBook.LoanBookZeroAddress.selector);
        new LoanBook(IERC20(address(stable)), address(0), treasury, address(pool));
        vm.expectRevert(LoanBook.LoanBookZeroAddress.selector);
        new LoanBook(IERC20(address(stable)), admin, address(0), address(pool));
    }

    function test_domainSeparator_matchesEip712() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Lendgram LoanBook"),
                keccak256("1"),
                block.chainid,
                address(book)
            )
        );
        assertEq(book.DOMAIN_SEPARATOR(), expected);
    }

    // ------------------------------------------------------------ helpers

    /// The default loan, defaulted with nothing repaid: the pool (10,000 USD) covered 500 USD.
    function _defaultedLoan() internal returns (uint256 loanId) {
        _deposit(erin, 10_000 * USD);
        loanId = _activeLoan();
        vm.warp(book.defaultableAfter(loanId) + 1);
        assertEq(book.markDefault(loanId), 500 * USD);
    }
}
