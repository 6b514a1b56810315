// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {LiquidityBackstopPool} from "../src/LiquidityBackstopPool.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Deposits, the withdrawal cooldown, cover, the LoanBook receivable, virtual shares.
contract LiquidityBackstopPoolTest is Fixture {
    uint256 internal constant COOLDOWN = 7 days;
    uint256 internal constant WINDOW = 2 days;

    // ------------------------------------------------------------ deposit and mint

    function test_deposit_mintsSharesWithTwelveDecimals() public {
        assertEq(pool.decimals(), 12);
        uint256 shares = _deposit(erin, 1_000 * USD);
        assertEq(shares, 1_000 * USD * 1e6);
        assertEq(pool.balanceOf(erin), shares);
        assertEq(pool.totalAssets(), 1_000 * USD);
        assertEq(pool.asset(), address(stable));
    }

    function test_mint_takesTheAssetsForExactShares() public {
        vm.prank(erin);
        uint256 assets = pool.mint(5e12, erin);
        assertEq(assets, 5 * USD);
        assertEq(pool.balanceOf(erin), 5e12);
    }

    function test_deposit_revertsWhenPaused() public {
        vm.prank(admin);
        pool.pause();
        assertEq(pool.maxDeposit(erin), 0);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        _deposit(erin, 1 * USD);
    }

    function test_mint_revertsWhenPaused() public {
        vm.prank(admin);
        pool.pause();
        assertEq(pool.maxMint(erin), 0);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(erin);
        pool.mint(1e12, erin);
    }

    function test_pause_revertsWhenCallerIsNotPauser() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, pool.PAUSER_ROLE())
        );
        vm.prank(bob);
        pool.pause();
    }

    function test_unpause_reopensDeposits() public {
        vm.startPrank(admin);
        pool.pause();
        pool.unpause();
        vm.stopPrank();
        assertTrue(_deposit(erin, 1 * USD) > 0);
    }

    // ------------------------------------------------------------ cooldown

    function test_requestWithdraw_recordsTheWindowAndEmits() public {
        uint256 shares = _deposit(erin, 1_000 * USD);
        vm.expectEmit(true, true, true, true, address(pool));
        emit LiquidityBackstopPool.WithdrawRequested(
            erin, shares / 2, block.timestamp + COOLDOWN, block.timestamp + COOLDOWN + WINDOW
        );
        vm.prank(erin);
        assertEq(pool.requestWithdraw(shares / 2), block.timestamp + COOLDOWN);
        (uint256 requested, uint256 readyAt, uint256 windowEnd) = pool.withdrawRequestOf(erin);
        assertEq(requested, shares / 2);
        assertEq(readyAt, block.timestamp + COOLDOWN);
        assertEq(windowEnd, block.timestamp + COOLDOWN + WINDOW);
    }

    function test_requestWithdraw_revertsWhenZero() public {
        vm.expectRevert(LiquidityBackstopPool.PoolZeroShares.selector);
        vm.prank(erin);
        pool.requestWithdraw(0);
    }

    function test_requestWithdraw_revertsWhenMoreThanTheBalance() public {
        uint256 shares = _deposit(erin, 1_000 * USD);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidityBackstopPool.PoolInsufficientShares.selector, shares + 1, shares)
        );
        vm.prank(erin);
        pool.requestWithdraw(shares + 1);
    }

    function test_redeem_revertsBeforeTheCooldownEnds() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        vm.warp(block.timestamp + COOLDOWN - 1);
        assertEq(pool.maxRedeem(erin), 0);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, erin, shares, 0));
        vm.prank(erin);
        pool.redeem(shares, erin, erin);
    }

    function test_redeem_revertsWithoutARequest() public {
        uint256 shares = _deposit(erin, 1_000 * USD);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, erin, shares, 0));
        vm.prank(erin);
        pool.redeem(shares, erin, erin);
    }

    function test_redeem_revertsAfterTheWindowCloses() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        vm.warp(block.timestamp + COOLDOWN + WINDOW + 1);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, erin, shares, 0));
        vm.prank(erin);
        pool.redeem(shares, erin, erin);
    }

    function test_redeem_withinTheWindowPaysOut() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        vm.warp(block.timestamp + COOLDOWN);
        uint256 before = stable.balanceOf(erin);
        vm.prank(erin);
        assertEq(pool.redeem(shares, erin, erin), 1_000 * USD);
        assertEq(stable.balanceOf(erin), before + 1_000 * USD);
        (uint256 requested,,) = pool.withdrawRequestOf(erin);
        assertEq(requested, 0);
    }

    function test_redeem_isLimitedToTheRequestedShares() public {
        uint256 shares = _deposit(erin, 1_000 * USD);
        vm.prank(erin);
        pool.requestWithdraw(shares / 4);
        vm.warp(block.timestamp + COOLDOWN);
        assertEq(pool.maxRedeem(erin), shares / 4);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, erin, shares / 2, shares / 4));
        vm.prank(erin);
        pool.redeem(shares / 2, erin, erin);
    }

    function test_redeem_worksWhilePaused() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        vm.prank(admin);
        pool.pause();
        vm.warp(block.timestamp + COOLDOWN);
        vm.prank(erin);
        assertEq(pool.redeem(shares, erin, erin), 1_000 * USD);
    }

    function test_withdraw_assetsWithinTheWindow() public {
        _requested(erin, 1_000 * USD);
        vm.warp(block.timestamp + COOLDOWN + 1 days);
        vm.prank(erin);
        pool.withdraw(400 * USD, erin, erin);
        assertEq(pool.totalAssets(), 600 * USD);
        assertEq(pool.maxWithdraw(erin), 600 * USD);
    }

    function test_withdraw_byAnApprovedSpender() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        vm.prank(erin);
        pool.approve(dave, shares);
        vm.warp(block.timestamp + COOLDOWN);
        vm.prank(dave);
        pool.redeem(shares, dave, erin);
        assertEq(pool.balanceOf(erin), 0);
    }

    function test_cancelWithdrawRequest_dropsTheRequest() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        vm.expectEmit(true, true, true, true, address(pool));
        emit LiquidityBackstopPool.WithdrawRequestCancelled(erin, shares);
        vm.prank(erin);
        pool.cancelWithdrawRequest();
        vm.warp(block.timestamp + COOLDOWN);
        assertEq(pool.maxRedeem(erin), 0);
    }

    function test_cancelWithdrawRequest_revertsWithoutARequest() public {
        vm.expectRevert(abi.encodeWithSelector(LiquidityBackstopPool.PoolNoWithdrawRequest.selector, erin));
        vm.prank(erin);
        pool.cancelWithdrawRequest();
    }

    function test_setCooldown_appliesToNewRequests() public {
        vm.expectEmit(true, true, true, true, address(pool));
        emit LiquidityBackstopPool.CooldownSet(admin, 1 days, 1 hours);
        vm.prank(admin);
        pool.setCooldown(1 days, 1 hours);
        _requested(erin, 10 * USD);
        (, uint256 readyAt, uint256 windowEnd) = pool.withdrawRequestOf(erin);
        assertEq(readyAt, block.timestamp + 1 days);
        assertEq(windowEnd, block.timestamp + 1 days + 1 hours);
    }

    function test_setCooldown_revertsOutOfRange() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(LiquidityBackstopPool.PoolCooldownOutOfRange.selector, 91 days, 1 days));
        pool.setCooldown(91 days, 1 days);
        vm.expectRevert(abi.encodeWithSelector(LiquidityBackstopPool.PoolCooldownOutOfRange.selector, 1 days, 59));
        pool.setCooldown(1 days, 59);
        vm.expectRevert(abi.encodeWithSelector(LiquidityBackstopPool.PoolCooldownOutOfRange.selector, 1 days, 31 days));
        pool.setCooldown(1 days, 31 days);
        vm.stopPrank();
    }

    function test_setCooldown_revertsWhenCallerIsNotAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, bob, pool.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(bob);
        pool.setCooldown(1 days, 1 days);
    }

    // ------------------------------------------------------------ cover

    function test_coverLoss_revertsWhenCallerIsNotTheLoanBook() public {
        _deposit(erin, 1_000 * USD);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, pool.LOANBOOK_ROLE())
        );
        vm.prank(bob);
        pool.coverLoss(1, 100 * USD);
    }

    function test_coverLoss_revertsWhenThePoolIsShort() public {
        _deposit(erin, 100 * USD);
        vm.expectRevert(
            abi.encodeWithSelector(LiquidityBackstopPool.PoolInsufficientLiquidity.selector, 101 * USD, 100 * USD)
        );
        vm.prank(address(book));
        pool.coverLoss(1, 101 * USD);
    }

    function test_coverLoss_paysTheLoanBook() public {
        _deposit(erin, 100 * USD);
        vm.expectEmit(true, true, true, true, address(pool));
        emit LiquidityBackstopPool.LossCovered(address(book), 7, 60 * USD);
        vm.prank(address(book));
        pool.coverLoss(7, 60 * USD);
        assertEq(stable.balanceOf(address(book)), 60 * USD);
        assertEq(pool.coverCapacity(), 40 * USD);
    }

    function test_setLoanBook_movesTheRole() public {
        bytes32 role = pool.LOANBOOK_ROLE();
        vm.expectEmit(true, true, true, true, address(pool));
        emit LiquidityBackstopPool.LoanBookSet(admin, address(book), dave);
        vm.prank(admin);
        pool.setLoanBook(dave);
        assertFalse(pool.hasRole(role, address(book)));
        assertTrue(pool.hasRole(role, dave));
        assertEq(pool.loanBook(), dave);
        vm.prank(admin);
        pool.setLoanBook(address(0));
        assertFalse(pool.hasRole(role, dave));
    }

    function test_setLoanBook_revertsWhenCallerIsNotAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, bob, pool.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(bob);
        pool.setLoanBook(bob);
    }

    // ------------------------------------------------------------ receivable

    function test_totalAssets_countsPremiumsHeldByTheLoanBook() public {
        _deposit(erin, 1_000 * USD);
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        assertEq(book.poolReceivable(), 6 * USD);
        assertEq(pool.totalAssets(), 1_006 * USD);
        assertEq(stable.balanceOf(address(pool)), 1_000 * USD);
    }

    function test_redeem_fetchesTheReceivableWhenTheBalanceIsShort() public {
        uint256 shares = _requested(erin, 1_000 * USD);
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        vm.warp(block.timestamp + COOLDOWN);
        uint256 before = stable.balanceOf(erin);
        vm.prank(erin);
        uint256 assets = pool.redeem(shares, erin, erin);
        // Virtual shares keep a sliver of the gain: 1,006 USD less at most one base unit.
        assertGe(assets, 1_006 * USD - 1, "redeemed assets");
        assertLe(assets, 1_006 * USD, "redeemed assets");
        assertEq(stable.balanceOf(erin), before + assets);
        assertEq(book.poolReceivable(), 0);
    }

    function test_deposit_afterPremiumsAccrueGetsFewerShares() public {
        uint256 erinShares = _deposit(erin, 1_000 * USD);
        uint256 loanId = _activeLoan();
        _repay(loanId, alice, 1_060 * USD);
        uint256 daveShares = _deposit(dave, 1_000 * USD);
        assertLt(daveShares, erinShares, "later depositor pays the accrued premium");
    }

    // ------------------------------------------------------------ inflation attack

    function test_virtualShares_makeTheInflationAttackUnprofitable() public {
        // The attacker deposits one base unit, then donates 10,000 USD to inflate the share price.
        vm.prank(dave);
        pool.deposit(1, dave);
        vm.prank(dave);
        assertTrue(stable.transfer(address(pool), 10_000 * USD));
        // The victim's deposit still mints shares and keeps almost all of its value.
        uint256 victimShares = _deposit(erin, 1_000 * USD);
        assertGt(victimShares, 0);
        uint256 victimValue = pool.previewRedeem(victimShares);
        assertGe(victimValue, 1_000 * USD - 1_000 * USD / 1e5, "victim loses at most 0.001%");
        // And the attacker cannot get back what it donated.
        uint256 attackerValue = pool.previewRedeem(pool.balanceOf(dave));
        assertLt(attackerValue, 10_000 * USD, "attacker loses on the donation");
    }

    // ------------------------------------------------------------ helpers

    function _requested(address depositor, uint256 amount) internal returns (uint256 shares) {
        shares = _deposit(depositor, amount);
        vm.prank(depositor);
        pool.requestWithdraw(shares);
    }
}
