// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LiquidityBackstopPool} from "../../src/LiquidityBackstopPool.sol";
import {LoanBook} from "../../src/LoanBook.sol";
import {MockStable} from "../../src/MockStable.sol";
import {Test} from "../utils/Test.sol";

/// @notice Drives the LoanBook and the pool through random but valid actions (it never makes a
/// call that should revert, so the campaign runs with fail_on_revert) and keeps ghost totals of
/// every flow of money for the invariants to compare with the contracts' state.
contract LendgramHandler is Test {
    uint256 internal constant USD = 1e6;

    LoanBook public immutable book;
    LiquidityBackstopPool public immutable pool;
    MockStable public immutable stable;
    address internal immutable admin;
    address internal immutable treasury;
    uint256 internal immutable underwriterKey;

    address[] public borrowers;
    address[] public lenders;
    address[] public depositors;
    uint256[] public loanIds;
    uint256 internal nextNonce = 1;

    // Ghost totals, per loan.
    mapping(uint256 loanId => uint256) public ghostClaimed;
    mapping(uint256 loanId => uint256) public ghostRefunded;
    mapping(uint256 loanId => LoanBook.LoanState) public ghostLastState;
    // Ghost totals, over everything.
    uint256 public ghostRepaid;
    uint256 public ghostFees;
    uint256 public ghostPremiums;
    uint256 public ghostCovers;
    uint256 public ghostRecoveries;
    uint256 public ghostClaimedTotal;
    uint256 public ghostPoolDeposits;
    uint256 public ghostPoolWithdrawals;
    bool public ghostStateWentBackwards;

    mapping(bytes32 => uint256) public calls;

    modifier tracked(bytes32 name) {
        ++calls[name];
        _;
        _recordStates();
    }

    constructor(
        LoanBook book_,
        LiquidityBackstopPool pool_,
        MockStable stable_,
        address admin_,
        address treasury_,
        uint256 underwriterKey_
    ) {
        book = book_;
        pool = pool_;
        stable = stable_;
        admin = admin_;
        treasury = treasury_;
        underwriterKey = underwriterKey_;
        for (uint256 i; i < 3; ++i) {
            borrowers.push(_actor("borrower", i));
            depositors.push(_actor("depositor", i));
        }
        for (uint256 i; i < 4; ++i) {
            lenders.push(_actor("lender", i));
        }
    }

    // ------------------------------------------------------------ loans

    function openLoan(uint256 borrowerSeed, uint256 principalSeed, uint256 interestSeed, uint256 nSeed)
        external
        tracked("openLoan")
    {
        uint256 principal = bound(principalSeed, 10 * USD, 100_000 * USD);
        LoanBook.LoanApproval memory a = LoanBook.LoanApproval({
            borrower: borrowers[borrowerSeed % borrowers.length],
            principal: principal,
            totalDue: principal + bound(interestSeed, 0, principal / 2),
            installments: uint16(bound(nSeed, 1, 12)),
            interval: 30 days,
            fundingDeadline: uint64(block.timestamp + 7 days),
            grade: uint8(nSeed % 5),
            nonce: nextNonce++,
            expiry: uint64(block.timestamp + 1 days)
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(underwriterKey, book.hashLoanApproval(a));
        vm.prank(a.borrower);
        uint256 loanId = book.openLoan(a, abi.encodePacked(r, s, v));
        loanIds.push(loanId);
    }

    function fund(uint256 loanSeed, uint256 lenderSeed, uint256 amountSeed) external tracked("fund") {
        (uint256 loanId, LoanBook.Loan memory loan) = _pickIn(loanSeed, _bit(LoanBook.LoanState.Funding));
        if (loan.state != LoanBook.LoanState.Funding || block.timestamp > loan.fundingDeadline) return;
        uint256 remaining = uint256(loan.principal) - loan.funded;
        uint256 ticket = book.minTicket();
        // A third of the offers fill the loan; the rest range from the smallest acceptable ticket to
        // twice what is left (the excess is not taken).
        uint256 amount = amountSeed % 3 == 0
            ? remaining
            : bound(amountSeed / 3, ticket < remaining ? ticket : remaining, 2 * remaining);
        address lender = lenders[lenderSeed % lenders.length];
        _ensureBalance(lender, amount);
        vm.prank(lender);
        book.fund(loanId, amount);
    }

    function cancel(uint256 loanSeed) external tracked("cancel") {
        // Borrowers rarely cancel; cancelling every other listing would starve the later stages.
        if (loanSeed % 7 != 3) return;
        (uint256 loanId, LoanBook.Loan memory loan) =
            _pickIn(loanSeed / 7, _bit(LoanBook.LoanState.Funding) | _bit(LoanBook.LoanState.Funded));
        if (loan.state != LoanBook.LoanState.Funding && loan.state != LoanBook.LoanState.Funded) return;
        vm.prank(loan.borrower);
        book.cancel(loanId);
    }

    function refund(uint256 loanSeed, uint256 lenderSeed) external tracked("refund") {
        (uint256 loanId, LoanBook.Loan memory loan) = _pickIn(
            loanSeed,
            _bit(LoanBook.LoanState.Funding) | _bit(LoanBook.LoanState.Funded) | _bit(LoanBook.LoanState.Cancelled)
                | _bit(LoanBook.LoanState.Expired)
        );
        bool closed = loan.state == LoanBook.LoanState.Cancelled || loan.state == LoanBook.LoanState.Expired;
        bool expirable = (loan.state == LoanBook.LoanState.Funding && block.timestamp > loan.fundingDeadline)
            || (loan.state == LoanBook.LoanState.Funded
                && block.timestamp > uint256(loan.fundingDeadline) + book.drawdownWindow());
        if (!closed && !expirable) return;
        address lender = lenders[lenderSeed % lenders.length];
        (uint256 funded, uint256 taken) = book.positionOf(loanId, lender);
        if (funded == taken) return;
        vm.prank(lender);
        ghostRefunded[loanId] += book.refund(loanId);
    }

    function drawdown(uint256 loanSeed) external tracked("drawdown") {
        (uint256 loanId, LoanBook.Loan memory loan) = _pickIn(loanSeed, _bit(LoanBook.LoanState.Funded));
        if (loan.state != LoanBook.LoanState.Funded) return;
        if (block.timestamp > uint256(loan.fundingDeadline) + book.drawdownWindow()) return;
        vm.prank(loan.borrower);
        book.drawdown(loanId);
    }

    function repay(uint256 loanSeed, uint256 payerSeed, uint256 amountSeed) external tracked("repay") {
        (uint256 loanId, LoanBook.Loan memory loan) =
            _pickIn(loanSeed, _bit(LoanBook.LoanState.Active) | _bit(LoanBook.LoanState.Defaulted));
        if (loan.state != LoanBook.LoanState.Active && loan.state != LoanBook.LoanState.Defaulted) return;
        uint256 owed = uint256(loan.totalDue) - loan.repaid;
        if (owed == 0) return;
        // Mostly one instalment's worth or less (so loans run late and default), sometimes all that
        // is owed or more (the excess is not taken).
        uint256 installment = uint256(loan.totalDue) / loan.installments + 1;
        uint256 mode = amountSeed % 5;
        amountSeed /= 5;
        uint256 amount =
            mode == 0 ? owed : mode == 1 ? bound(amountSeed, 1, 2 * owed) : bound(amountSeed, 1, installment);
        address payer = payerSeed % 4 == 0 ? lenders[payerSeed % lenders.length] : loan.borrower;
        _ensureBalance(payer, amount);

        uint256 feesBefore = book.feesAccrued();
        uint256 receivableBefore = book.poolReceivable();
        vm.prank(payer);
        uint256 paid = book.repay(loanId, amount);
        uint256 recovery = book.getLoan(loanId).recovered - loan.recovered;
        ghostRepaid += paid;
        ghostFees += book.feesAccrued() - feesBefore;
        ghostRecoveries += recovery;
        ghostPremiums += book.poolReceivable() - receivableBefore - recovery;
    }

    function claim(uint256 loanSeed, uint256 lenderSeed) external tracked("claim") {
        (uint256 loanId,) = _pickIn(
            loanSeed,
            _bit(LoanBook.LoanState.Active) | _bit(LoanBook.LoanState.Repaid) | _bit(LoanBook.LoanState.Defaulted)
        );
        address lender = lenders[lenderSeed % lenders.length];
        if (book.claimable(loanId, lender) == 0) return;
        vm.prank(lender);
        uint256 amount = book.claim(loanId);
        ghostClaimed[loanId] += amount;
        ghostClaimedTotal += amount;
    }

    function claimMany(uint256 lenderSeed) external tracked("claimMany") {
        address lender = lenders[lenderSeed % lenders.length];
        uint256 total;
        for (uint256 i; i < loanIds.length; ++i) {
            uint256 amount = book.claimable(loanIds[i], lender);
            ghostClaimed[loanIds[i]] += amount;
            total += amount;
        }
        if (total == 0) return;
        vm.prank(lender);
        assertEq(book.claimMany(loanIds), total, "claimMany pays the sum of claimables");
        ghostClaimedTotal += total;
    }

    function markDefault(uint256 loanSeed) external tracked("markDefault") {
        (uint256 loanId, LoanBook.Loan memory loan) = _pickIn(loanSeed, _bit(LoanBook.LoanState.Active));
        if (loan.state != LoanBook.LoanState.Active) return;
        uint256 after_ = book.defaultableAfter(loanId);
        if (after_ == 0 || block.timestamp <= after_) return;
        ghostCovers += book.markDefault(loanId);
    }

    function claimFees() external tracked("claimFees") {
        if (book.feesAccrued() == 0) return;
        vm.prank(treasury);
        book.claimFees();
    }

    function pushPoolReceivable() external tracked("pushPoolReceivable") {
        book.pushPoolReceivable();
    }

    function setParameters(uint256 feeSeed, uint256 premiumSeed, uint256 coverSeed, uint256 ticketSeed)
        external
        tracked("setParameters")
    {
        vm.startPrank(admin);
        book.setPlatformFeeBps(uint16(bound(feeSeed, 0, 5_000)));
        book.setPremiumBps(uint16(bound(premiumSeed, 0, 5_000)));
        book.setCoverBps(uint16(bound(coverSeed, 0, 10_000)));
        book.setMinTicket(uint64(bound(ticketSeed, 1, 100 * USD)));
        vm.stopPrank();
    }

    function warp(uint256 secondsSeed) external tracked("warp") {
        // Mostly hours to days, sometimes a month or more so instalments fall due and loans default.
        uint256 maxStep = secondsSeed % 3 == 0 ? 40 days : 3 days;
        vm.warp(block.timestamp + bound(secondsSeed / 3, 1 hours, maxStep));
    }

    // ------------------------------------------------------------ pool

    function poolDeposit(uint256 depositorSeed, uint256 amountSeed) external tracked("poolDeposit") {
        address depositor = depositors[depositorSeed % depositors.length];
        uint256 amount = bound(amountSeed, 1, 200_000 * USD);
        _ensureBalance(depositor, amount);
        vm.prank(depositor);
        pool.deposit(amount, depositor);
        ghostPoolDeposits += amount;
    }

    function poolRequestWithdraw(uint256 depositorSeed, uint256 sharesSeed) external tracked("poolRequestWithdraw") {
        address depositor = depositors[depositorSeed % depositors.length];
        uint256 balance = pool.balanceOf(depositor);
        if (balance == 0) return;
        vm.prank(depositor);
        pool.requestWithdraw(bound(sharesSeed, 1, balance));
    }

    function poolRedeem(uint256 depositorSeed, uint256 sharesSeed) external tracked("poolRedeem") {
        address depositor = depositors[depositorSeed % depositors.length];
        (uint256 requested, uint256 readyAt, uint256 windowEnd) = pool.withdrawRequestOf(depositor);
        if (requested == 0 || block.timestamp > windowEnd) return;
        if (block.timestamp < readyAt) vm.warp(readyAt);
        uint256 maxShares = pool.maxRedeem(depositor);
        if (maxShares == 0) return;
        vm.prank(depositor);
        ghostPoolWithdrawals += pool.redeem(bound(sharesSeed, 1, maxShares), depositor, depositor);
    }

    /// Depositors pass shares around (to each other), with or without pending requests.
    function poolTransfer(uint256 fromSeed, uint256 toSeed, uint256 sharesSeed) external tracked("poolTransfer") {
        address from = depositors[fromSeed % depositors.length];
        address to = depositors[toSeed % depositors.length];
        uint256 balance = pool.balanceOf(from);
        if (balance == 0) return;
        vm.prank(from);
        require(pool.transfer(to, bound(sharesSeed, 1, balance)), "share transfer");
    }

    // ------------------------------------------------------------ views for the invariants

    function loanCount() external view returns (uint256) {
        return loanIds.length;
    }

    function depositorCount() external view returns (uint256) {
        return depositors.length;
    }

    function lenderCount() external view returns (uint256) {
        return lenders.length;
    }

    // ------------------------------------------------------------ internals

    /// A loan whose state is in `states` (a bit mask), starting the search at a seeded position;
    /// loan id 0 (state None) when there is none.
    function _pickIn(uint256 seed, uint256 states) internal view returns (uint256 loanId, LoanBook.Loan memory loan) {
        uint256 count = loanIds.length;
        for (uint256 i; i < count; ++i) {
            uint256 candidate = loanIds[(seed % count + i) % count];
            LoanBook.Loan memory candidateLoan = book.getLoan(candidate);
            if (states & _bit(candidateLoan.state) != 0) return (candidate, candidateLoan);
        }
    }

    function _bit(LoanBook.LoanState state) internal pure returns (uint256) {
        return 1 << uint256(state);
    }

    function _ensureBalance(address account, uint256 amount) internal {
        uint256 balance = stable.balanceOf(account);
        if (balance < amount) {
            vm.prank(admin);
            stable.mint(account, amount - balance);
        }
    }

    function _actor(string memory role, uint256 i) internal returns (address account) {
        account = vm.addr(uint256(keccak256(abi.encode(role, i))));
        vm.label(account, string.concat(role, vm.toString(i)));
        vm.startPrank(account);
        stable.approve(address(book), type(uint256).max);
        stable.approve(address(pool), type(uint256).max);
        vm.stopPrank();
    }

    /// A loan's state may only ever grow (None < Funding < ... < Defaulted).
    function _recordStates() internal {
        for (uint256 i; i < loanIds.length; ++i) {
            LoanBook.LoanState state = book.getLoan(loanIds[i]).state;
            if (state < ghostLastState[loanIds[i]]) ghostStateWentBackwards = true;
            ghostLastState[loanIds[i]] = state;
        }
    }
}
