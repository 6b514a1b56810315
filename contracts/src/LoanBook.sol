// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IBackstopPool} from "./interfaces/IBackstopPool.sol";
import {IPoolReceivable} from "./interfaces/IPoolReceivable.sol";

/// @title LoanBook
/// @notice Every Lendgram loan in one contract: listing with an underwriter's EIP-712 approval,
/// partial funding by lenders, drawdown, instalment repayments, pull-based pro-rata claims,
/// refunds of loans that never started, and defaults covered in part by the backstop pool.
/// @dev Money rules (all amounts are base units of the 6-decimal stable asset):
/// - Cumulative amount due after instalment k is floor(totalDue * k / installments).
/// - Every split is computed on cumulative repaid amounts, never per payment, so the parts of all
///   payments add up exactly: interestPaid(r) = floor(r * (totalDue - principal) / totalDue),
///   fee(r) = floor(interestPaid(r) * feeBps / 1e4), premium(r) likewise with premiumBps, and a
///   payment's share is f(repaidAfter) - f(repaidBefore). No base unit is created or lost.
/// - Lenders' money: distributed = repaid - fees - premiums + cover - recovered; a lender is
///   entitled to floor(distributed * position / principal). Flooring per lender means the sum of
///   claims never exceeds `distributed`; what is left (under one base unit per lender) stays here.
/// - Token balance of this contract, exactly: sum over loans in Funding/Funded of `funded`, plus
///   over Cancelled/Expired loans the positions not yet refunded, plus over Active/Repaid/Defaulted
///   loans `distributed` minus what lenders claimed, plus {feesAccrued} and {poolReceivable}.
/// - Fees, premium bps, cover bps and grace period are copied into the loan when it opens: the
///   terms a lender funds never change afterwards.
contract LoanBook is AccessControl, EIP712, ReentrancyGuardTransient, Pausable, IPoolReceivable {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- types

    /// @notice Lifecycle of a loan. A loan only ever moves to a higher value.
    enum LoanState {
        None,
        Funding,
        Funded,
        Active,
        Repaid,
        Cancelled,
        Expired,
        Defaulted
    }

    /// @notice The underwriter's offer that the borrower lists on chain (EIP-712 typed data).
    struct LoanApproval {
        address borrower;
        uint256 principal;
        uint256 totalDue;
        uint16 installments;
        uint32 interval;
        uint64 fundingDeadline;
        uint8 grade;
        uint256 nonce;
        uint64 expiry;
    }

    /// @notice One loan, packed in four storage slots grouped by the calls that touch them:
    /// fund reads slot 0 and writes slot 2; repay and claim read slots 0 and 1 (slot 3 only for a
    /// defaulted loan). uint96 holds 7.9e22 whole tokens at 6 decimals.
    struct Loan {
        // slot 0
        LoanState state;
        uint16 feeBps;
        uint16 premiumBps;
        uint16 coverBps;
        uint8 grade;
        uint16 installments;
        uint40 fundingDeadline;
        uint40 start;
        uint96 principal;
        // slot 1
        uint96 totalDue;
        uint96 repaid;
        uint32 interval;
        uint32 gracePeriod;
        // slot 2
        address borrower;
        uint96 funded;
        // slot 3
        uint96 covered;
        uint96 recovered;
    }

    /// @notice A lender's stake in one loan: what they put in and what they took out (claims,
    /// or the refund of a loan that never started).
    struct Position {
        uint128 funded;
        uint128 claimed;
    }

    // ---------------------------------------------------------------- constants

    /// @notice Signs loan approvals.
    bytes32 public constant UNDERWRITER_ROLE = keccak256("UNDERWRITER_ROLE");
    /// @notice Pauses and unpauses new business.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice EIP-712 type hash of {LoanApproval}.
    bytes32 public constant LOAN_APPROVAL_TYPEHASH = keccak256(
        "LoanApproval(address borrower,uint256 principal,uint256 totalDue,uint16 installments,"
        "uint32 interval,uint64 fundingDeadline,uint8 grade,uint256 nonce,uint64 expiry)"
    );

    uint256 private constant BPS = 10_000;
    /// @notice Highest platform fee, in bps of the interest part of repayments.
    uint256 public constant MAX_PLATFORM_FEE_BPS = 5_000;
    /// @notice Highest backstop premium, in bps of the interest part of repayments.
    uint256 public constant MAX_PREMIUM_BPS = 5_000;
    /// @notice Longest grace period after a missed instalment.
    uint256 public constant MAX_GRACE_PERIOD = 180 days;
    /// @notice Shortest time a funded loan waits for its drawdown.
    uint256 public constant MIN_DRAWDOWN_WINDOW = 1 hours;
    /// @notice Longest time a funded loan waits for its drawdown.
    uint256 public constant MAX_DRAWDOWN_WINDOW = 90 days;

    // ---------------------------------------------------------------- storage

    /// @notice The stable asset every loan is denominated in.
    IERC20 public immutable stable;

    // These share one slot with Pausable's flag (Pausable is the last base): the pause check and
    // the parameters fund/openLoan need cost a single storage read.
    /// @notice Platform fee for new loans, bps of the interest part.
    uint16 public platformFeeBps;
    /// @notice Backstop premium for new loans, bps of the interest part.
    uint16 public premiumBps;
    /// @notice Share of a new loan's outstanding principal the pool covers on default, bps.
    uint16 public coverBps;
    /// @notice Time after a missed instalment's due time before a new loan can be defaulted.
    uint32 public gracePeriod;
    /// @notice Time after the funding deadline during which a funded loan can be drawn down.
    uint32 public drawdownWindow;
    /// @notice Smallest funding ticket (a smaller remainder may still be filled).
    uint64 public minTicket;

    // The two accumulators a repayment touches share the next slot with the next loan id, which
    // is set in the constructor: the slot is never zero, so neither opening a loan nor accruing
    // ever pays the 20k zero-to-non-zero store. (Declared in this order so that the id does not
    // fit in the slot above; `forge inspect LoanBook storageLayout` shows it.)
    /// @notice Platform fees not yet claimed by the treasury.
    uint96 public feesAccrued;
    /// @notice Premiums and recoveries held for the pool until {pushPoolReceivable}.
    uint96 public poolReceivable;
    uint64 private _nextLoanId;

    /// @notice Receives platform fees through {claimFees}.
    address public treasury;
    /// @notice The backstop pool that earns premiums and covers defaults.
    address public pool;

    mapping(uint256 loanId => Loan) private _loans;
    mapping(uint256 loanId => mapping(address lender => Position)) private _positions;
    mapping(uint256 wordIndex => uint256 bits) private _usedNonces;

    // ---------------------------------------------------------------- events

    /// @notice A borrower listed an approved loan; `nonce` ties it to the off-chain application.
    event LoanOpened(
        uint256 indexed loanId,
        address indexed borrower,
        uint256 indexed nonce,
        uint256 principal,
        uint256 totalDue,
        uint16 installments,
        uint32 interval,
        uint64 fundingDeadline,
        uint8 grade
    );
    /// @notice A lender funded `amount`; the loan now holds `totalFunded`.
    event Funded(uint256 indexed loanId, address indexed lender, uint256 amount, uint256 totalFunded);
    /// @notice The loan reached its principal and waits for the borrower's drawdown.
    event FundingCompleted(uint256 indexed loanId, uint256 principal);
    /// @notice The borrower withdrew the listing; lenders may take their money back.
    event LoanCancelled(uint256 indexed loanId, address indexed borrower, uint256 funded);
    /// @notice Funding (or the drawdown) did not happen in time; lenders may take their money back.
    event LoanExpired(uint256 indexed loanId, uint256 funded);
    /// @notice A lender took back the money of a loan that never started.
    event Refunded(uint256 indexed loanId, address indexed lender, uint256 amount);
    /// @notice The borrower received the principal; the schedule runs from `start`.
    event DrawnDown(uint256 indexed loanId, address indexed borrower, uint256 principal, uint256 start);
    /// @notice A repayment of `amount`, of which `fee` went to the treasury and `premium` to the pool.
    event Repaid(
        uint256 indexed loanId, address indexed payer, uint256 amount, uint256 totalRepaid, uint256 fee, uint256 premium
    );
    /// @notice The last base unit of the loan was repaid.
    event LoanFullyRepaid(uint256 indexed loanId);
    /// @notice A lender claimed their share of repayments (and cover).
    event Claimed(uint256 indexed loanId, address indexed lender, uint256 amount);
    /// @notice The loan defaulted; the pool paid `cover` towards `outstandingPrincipal`.
    event Defaulted(uint256 indexed loanId, uint256 outstandingPrincipal, uint256 cover);
    /// @notice A repayment on a defaulted loan: `toPool` refilled the pool, `toLenders` is theirs.
    event Recovered(uint256 indexed loanId, address indexed payer, uint256 amount, uint256 toPool, uint256 toLenders);
    /// @notice The treasury took the accrued platform fees.
    event FeesClaimed(address indexed treasury, uint256 amount);
    /// @notice Premiums and recoveries were sent to the pool.
    event PoolReceivablePushed(address indexed pool, uint256 amount);
    /// @notice Admin changed the platform fee for new loans.
    event PlatformFeeBpsSet(address indexed admin, uint256 previousBps, uint256 newBps);
    /// @notice Admin changed the backstop premium for new loans.
    event PremiumBpsSet(address indexed admin, uint256 previousBps, uint256 newBps);
    /// @notice Admin changed the default cover for new loans.
    event CoverBpsSet(address indexed admin, uint256 previousBps, uint256 newBps);
    /// @notice Admin changed the grace period for new loans.
    event GracePeriodSet(address indexed admin, uint256 previousPeriod, uint256 newPeriod);
    /// @notice Admin changed the drawdown window.
    event DrawdownWindowSet(address indexed admin, uint256 previousWindow, uint256 newWindow);
    /// @notice Admin changed the smallest funding ticket.
    event MinTicketSet(address indexed admin, uint256 previousTicket, uint256 newTicket);
    /// @notice Admin moved the fee recipient.
    event TreasurySet(address indexed admin, address indexed previousTreasury, address indexed newTreasury);
    /// @notice Admin switched the backstop pool.
    event PoolSet(address indexed admin, address indexed previousPool, address indexed newPool);

    // ---------------------------------------------------------------- errors

    error LoanBookCallerNotBorrower(address caller, address borrower);
    error LoanBookCallerNotTreasury(address caller);
    error LoanBookApprovalExpired(uint256 nonce, uint256 expiry);
    error LoanBookNonceUsed(uint256 nonce);
    error LoanBookInvalidSignature();
    error LoanBookInvalidUnderwriter(address signer);
    error LoanBookZeroPrincipal();
    error LoanBookAmountTooLarge(uint256 amount);
    error LoanBookTotalDueBelowPrincipal(uint256 totalDue, uint256 principal);
    error LoanBookZeroInstallments();
    error LoanBookZeroInterval();
    error LoanBookInvalidFundingDeadline(uint256 fundingDeadline);
    error LoanBookZeroAmount();
    error LoanBookFundingClosed(uint256 loanId);
    error LoanBookFundingExpired(uint256 loanId, uint256 fundingDeadline);
    error LoanBookBorrowerCannotFund(uint256 loanId);
    error LoanBookBelowMinTicket(uint256 loanId, uint256 amount, uint256 minTicket);
    error LoanBookNotCancellable(uint256 loanId);
    error LoanBookNotExpirable(uint256 loanId);
    error LoanBookNotRefundable(uint256 loanId);
    error LoanBookNothingToRefund(uint256 loanId, address lender);
    error LoanBookNotDrawable(uint256 loanId);
    error LoanBookDrawdownExpired(uint256 loanId, uint256 drawdownDeadline);
    error LoanBookNotRepayable(uint256 loanId);
    error LoanBookNothingToClaim(uint256 loanId, address lender);
    error LoanBookNothingClaimable(address lender);
    error LoanBookNoFees();
    error LoanBookNotActive(uint256 loanId);
    error LoanBookDefaultTooEarly(uint256 loanId, uint256 defaultableAfter);
    error LoanBookUnknownLoan(uint256 loanId);
    error LoanBookInstallmentOutOfRange(uint256 loanId, uint256 installment, uint256 installments);
    error LoanBookBpsTooHigh(uint256 bps, uint256 maxBps);
    error LoanBookGracePeriodTooLong(uint256 period, uint256 maxPeriod);
    error LoanBookDrawdownWindowOutOfRange(uint256 window, uint256 minWindow, uint256 maxWindow);
    error LoanBookZeroAddress();

    // ---------------------------------------------------------------- set-up

    /// @param stable_ The 6-decimal stable asset.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param treasury_ Receives platform fees.
    /// @param pool_ The backstop pool (may be zero and set later with {setPool}).
    constructor(IERC20 stable_, address admin, address treasury_, address pool_) EIP712("Lendgram LoanBook", "1") {
        if (address(stable_) == address(0) || admin == address(0) || treasury_ == address(0)) {
            revert LoanBookZeroAddress();
        }
        stable = stable_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        treasury = treasury_;
        pool = pool_;
        platformFeeBps = 1_000;
        premiumBps = 1_000;
        coverBps = 5_000;
        gracePeriod = 7 days;
        drawdownWindow = 7 days;
        minTicket = 10e6;
        _nextLoanId = 1;
        emit TreasurySet(admin, address(0), treasury_);
        emit PoolSet(admin, address(0), pool_);
    }

    // ---------------------------------------------------------------- borrower

    /// @notice Lists a loan approved by an underwriter; the caller must be the approval's borrower.
    /// @param a The approval, as signed.
    /// @param signature The underwriter's EIP-712 signature over `a` (65 bytes: r, s, v).
    /// @return loanId The new loan's id (sequential from 1).
    function openLoan(LoanApproval calldata a, bytes calldata signature)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 loanId)
    {
        if (msg.sender != a.borrower) revert LoanBookCallerNotBorrower(msg.sender, a.borrower);
        if (block.timestamp > a.expiry) revert LoanBookApprovalExpired(a.nonce, a.expiry);
        if (a.principal == 0) revert LoanBookZeroPrincipal();
        if (a.totalDue > type(uint96).max) revert LoanBookAmountTooLarge(a.totalDue);
        if (a.totalDue < a.principal) revert LoanBookTotalDueBelowPrincipal(a.totalDue, a.principal);
        if (a.installments == 0) revert LoanBookZeroInstallments();
        if (a.interval == 0) revert LoanBookZeroInterval();
        if (a.fundingDeadline <= block.timestamp || a.fundingDeadline > type(uint40).max) {
            revert LoanBookInvalidFundingDeadline(a.fundingDeadline);
        }
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecoverCalldata(_hashTypedDataV4(keccak256(abi.encode(LOAN_APPROVAL_TYPEHASH, a))), signature);
        if (err != ECDSA.RecoverError.NoError) revert LoanBookInvalidSignature();
        if (!hasRole(UNDERWRITER_ROLE, signer)) revert LoanBookInvalidUnderwriter(signer);
        _useNonce(a.nonce);

        loanId = _nextLoanId;
        _nextLoanId = uint64(loanId + 1);
        Loan storage loan = _loans[loanId];
        loan.state = LoanState.Funding;
        loan.feeBps = platformFeeBps;
        loan.premiumBps = premiumBps;
        loan.coverBps = coverBps;
        loan.grade = a.grade;
        loan.installments = a.installments;
        loan.fundingDeadline = uint40(a.fundingDeadline);
        loan.principal = uint96(a.principal);
        loan.totalDue = uint96(a.totalDue);
        loan.interval = a.interval;
        loan.gracePeriod = gracePeriod;
        loan.borrower = a.borrower;

        emit LoanOpened(
            loanId, a.borrower, a.nonce, a.principal, a.totalDue, a.installments, a.interval, a.fundingDeadline, a.grade
        );
    }

    /// @notice Withdraws a listing that has not been drawn down (Funding, or Funded and waiting).
    /// @dev Chosen over "only while nothing is funded": a borrower who changes their mind should
    /// not have to wait for the deadline, and lenders get every base unit back through {refund}.
    /// @param loanId The loan to cancel.
    function cancel(uint256 loanId) external whenNotPaused nonReentrant {
        Loan storage loan = _loans[loanId];
        if (msg.sender != loan.borrower) revert LoanBookCallerNotBorrower(msg.sender, loan.borrower);
        LoanState state = loan.state;
        if (state != LoanState.Funding && state != LoanState.Funded) revert LoanBookNotCancellable(loanId);
        loan.state = LoanState.Cancelled;
        emit LoanCancelled(loanId, msg.sender, loan.funded);
    }

    /// @notice Sends the principal of a fully funded loan to its borrower and starts the schedule:
    /// instalment k is due at start + k * interval.
    /// @param loanId The loan to draw down.
    function drawdown(uint256 loanId) external whenNotPaused nonReentrant {
        Loan storage loan = _loans[loanId];
        if (msg.sender != loan.borrower) revert LoanBookCallerNotBorrower(msg.sender, loan.borrower);
        if (loan.state != LoanState.Funded) revert LoanBookNotDrawable(loanId);
        uint256 drawdownDeadline = uint256(loan.fundingDeadline) + drawdownWindow;
        if (block.timestamp > drawdownDeadline) revert LoanBookDrawdownExpired(loanId, drawdownDeadline);
        uint256 principal = loan.principal;
        loan.state = LoanState.Active;
        loan.start = uint40(block.timestamp);
        emit DrawnDown(loanId, msg.sender, principal, block.timestamp);
        stable.safeTransfer(msg.sender, principal);
    }

    // ---------------------------------------------------------------- lenders

    /// @notice Funds a listed loan. Takes at most what is left to fund; a ticket smaller than
    /// {minTicket} is only accepted when it fills the loan. Needs an allowance for the amount taken.
    /// @param loanId The loan to fund.
    /// @param amount Base units offered.
    /// @return taken Base units actually taken.
    function fund(uint256 loanId, uint256 amount) external whenNotPaused nonReentrant returns (uint256 taken) {
        taken = _fund(loanId, amount);
    }

    /// @notice {fund} with an EIP-2612 permit for `amount` in the same transaction.
    /// @dev Anyone can replay a permit seen in the mempool before this lands; that uses up the
    /// permit nonce and makes our call to `permit` fail, but leaves the allowance in place. So a
    /// failed permit is ignored and the transfer itself decides.
    /// @param loanId The loan to fund.
    /// @param amount Base units offered (and the permit's value).
    /// @param deadline The permit's deadline.
    /// @param v Permit signature, v.
    /// @param r Permit signature, r.
    /// @param s Permit signature, s.
    /// @return taken Base units actually taken.
    function fundWithPermit(uint256 loanId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 taken)
    {
        try IERC20Permit(address(stable)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        taken = _fund(loanId, amount);
    }

    /// @notice Marks a loan Expired when funding missed its deadline, or a funded loan was not drawn
    /// down within {drawdownWindow} after it. Lenders then {refund}. Anyone may call.
    /// @param loanId The loan to expire.
    function expire(uint256 loanId) external whenNotPaused nonReentrant {
        Loan storage loan = _loans[loanId];
        if (!_isExpirable(loan)) revert LoanBookNotExpirable(loanId);
        _expire(loanId, loan);
    }

    /// @notice Gives the caller back what they funded into a loan that was cancelled or expired
    /// (expiring it first if its deadline has passed). Works while paused: it is the lender's money.
    /// @param loanId The loan.
    /// @return amount Base units returned.
    function refund(uint256 loanId) external nonReentrant returns (uint256 amount) {
        Loan storage loan = _loans[loanId];
        LoanState state = loan.state;
        if (state != LoanState.Cancelled && state != LoanState.Expired) {
            if (!_isExpirable(loan)) revert LoanBookNotRefundable(loanId);
            _expire(loanId, loan);
        }
        Position storage position = _positions[loanId][msg.sender];
        amount = position.funded - position.claimed;
        if (amount == 0) revert LoanBookNothingToRefund(loanId, msg.sender);
        position.claimed = position.funded;
        emit Refunded(loanId, msg.sender, amount);
        stable.safeTransfer(msg.sender, amount);
    }

    /// @notice Pays the caller their share of one loan's repayments and cover.
    /// @param loanId The loan.
    /// @return amount Base units paid.
    function claim(uint256 loanId) external nonReentrant returns (uint256 amount) {
        amount = _claim(loanId, msg.sender);
        if (amount == 0) revert LoanBookNothingToClaim(loanId, msg.sender);
        stable.safeTransfer(msg.sender, amount);
    }

    /// @notice {claim} over several loans with a single token transfer; loans with nothing to
    /// claim are skipped.
    /// @param loanIds The loans.
    /// @return total Base units paid.
    function claimMany(uint256[] calldata loanIds) external nonReentrant returns (uint256 total) {
        for (uint256 i; i < loanIds.length; ++i) {
            total += _claim(loanIds[i], msg.sender);
        }
        if (total == 0) revert LoanBookNothingClaimable(msg.sender);
        stable.safeTransfer(msg.sender, total);
    }

    // ---------------------------------------------------------------- repayments and defaults

    /// @notice Repays `amount` (capped at what is still owed) of a loan; anyone may pay. Works
    /// while paused. On a defaulted loan this is a recovery: it refills the pool first.
    /// @param loanId The loan.
    /// @param amount Base units offered.
    /// @return paid Base units actually taken.
    function repay(uint256 loanId, uint256 amount) external nonReentrant returns (uint256 paid) {
        if (amount == 0) revert LoanBookZeroAmount();
        Loan storage loan = _loans[loanId];
        LoanState state = loan.state;
        if (state != LoanState.Active && state != LoanState.Defaulted) revert LoanBookNotRepayable(loanId);
        uint256 totalDue = loan.totalDue;
        uint256 repaidBefore = loan.repaid;
        uint256 owed = totalDue - repaidBefore;
        if (owed == 0) revert LoanBookNotRepayable(loanId);
        paid = amount < owed ? amount : owed;
        uint256 repaidAfter = repaidBefore + paid;
        loan.repaid = uint96(repaidAfter);

        (uint256 fee, uint256 premium) = _charges(loan, repaidBefore, repaidAfter);

        uint256 toPool = premium;
        if (state == LoanState.Defaulted) {
            // Fee and premium are floored separately on cumulative interest, so a payment of a
            // few base units can carry more charges than itself; its lenders' part is then zero.
            uint256 charges = fee + premium;
            toPool += _recover(loan, loanId, paid, paid > charges ? paid - charges : 0);
        } else if (repaidAfter == totalDue) {
            loan.state = LoanState.Repaid;
            emit LoanFullyRepaid(loanId);
        }
        if (fee != 0) feesAccrued += uint96(fee);
        if (toPool != 0) poolReceivable += uint96(toPool);
        emit Repaid(loanId, msg.sender, paid, repaidAfter, fee, premium);
        // Pull last: every balance above is already final if the token misbehaves on the way in.
        stable.safeTransferFrom(msg.sender, address(this), paid);
    }

    /// @notice Marks a loan Defaulted once an instalment has stayed unpaid for longer than the
    /// loan's grace period after its due time; the pool then covers up to the loan's cover bps of
    /// the outstanding principal (capped by what the pool holds). Anyone may call.
    /// @dev Only the cover that actually arrives is credited (balance before and after), so a
    /// pool that reports capacity but pays less cannot make other loans' money claimable.
    /// @param loanId The loan.
    /// @return cover Base units the pool paid in, distributed to lenders like a repayment.
    function markDefault(uint256 loanId) external whenNotPaused nonReentrant returns (uint256 cover) {
        Loan storage loan = _loans[loanId];
        if (loan.state != LoanState.Active) revert LoanBookNotActive(loanId);
        uint256 defaultableAt = _defaultableAfter(loan);
        if (block.timestamp <= defaultableAt) revert LoanBookDefaultTooEarly(loanId, defaultableAt);

        uint256 outstandingPrincipal_ = _outstandingPrincipal(loan);
        loan.state = LoanState.Defaulted;
        address pool_ = pool;
        if (pool_ != address(0)) {
            // Premiums already earned belong to the pool before it pays anything out.
            _pushPoolReceivable();
            cover = outstandingPrincipal_ * loan.coverBps / BPS;
            uint256 capacity = IBackstopPool(pool_).coverCapacity();
            if (cover > capacity) cover = capacity;
            if (cover != 0) {
                // Credit what arrives, not what was asked for: claims are paid from this
                // contract's balance, so cover a pool promises but does not send would be paid out
                // of other loans' money. (The state is written after the call; nonReentrant holds.)
                uint256 balanceBefore = stable.balanceOf(address(this));
                IBackstopPool(pool_).coverLoss(loanId, cover);
                cover = stable.balanceOf(address(this)) - balanceBefore;
                loan.covered = uint96(cover);
            }
        }
        emit Defaulted(loanId, outstandingPrincipal_, cover);
    }

    // ---------------------------------------------------------------- treasury and pool

    /// @notice Sends the accrued platform fees to the treasury; only the treasury may call.
    /// @return amount Base units sent.
    function claimFees() external nonReentrant returns (uint256 amount) {
        address treasury_ = treasury;
        if (msg.sender != treasury_) revert LoanBookCallerNotTreasury(msg.sender);
        amount = feesAccrued;
        if (amount == 0) revert LoanBookNoFees();
        feesAccrued = 0;
        emit FeesClaimed(treasury_, amount);
        stable.safeTransfer(treasury_, amount);
    }

    /// @notice Sends the premiums and recoveries held for the pool to it. Anyone may call; the
    /// pool calls it itself when a withdrawal needs the money.
    /// @return amount Base units sent.
    function pushPoolReceivable() external nonReentrant returns (uint256 amount) {
        amount = _pushPoolReceivable();
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the platform fee for loans opened from now on.
    /// @param bps Basis points of the interest part, at most {MAX_PLATFORM_FEE_BPS}.
    function setPlatformFeeBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > MAX_PLATFORM_FEE_BPS) revert LoanBookBpsTooHigh(bps, MAX_PLATFORM_FEE_BPS);
        emit PlatformFeeBpsSet(msg.sender, platformFeeBps, bps);
        platformFeeBps = bps;
    }

    /// @notice Sets the backstop premium for loans opened from now on.
    /// @param bps Basis points of the interest part, at most {MAX_PREMIUM_BPS}.
    function setPremiumBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > MAX_PREMIUM_BPS) revert LoanBookBpsTooHigh(bps, MAX_PREMIUM_BPS);
        emit PremiumBpsSet(msg.sender, premiumBps, bps);
        premiumBps = bps;
    }

    /// @notice Sets the default cover for loans opened from now on.
    /// @param bps Basis points of the outstanding principal, at most 10,000.
    function setCoverBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > BPS) revert LoanBookBpsTooHigh(bps, BPS);
        emit CoverBpsSet(msg.sender, coverBps, bps);
        coverBps = bps;
    }

    /// @notice Sets the grace period for loans opened from now on.
    /// @param period Seconds, at most {MAX_GRACE_PERIOD}.
    function setGracePeriod(uint32 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (period > MAX_GRACE_PERIOD) revert LoanBookGracePeriodTooLong(period, MAX_GRACE_PERIOD);
        emit GracePeriodSet(msg.sender, gracePeriod, period);
        gracePeriod = period;
    }

    /// @notice Sets how long after its funding deadline a funded loan can still be drawn down.
    /// @param window Seconds, between {MIN_DRAWDOWN_WINDOW} and {MAX_DRAWDOWN_WINDOW}.
    function setDrawdownWindow(uint32 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (window < MIN_DRAWDOWN_WINDOW || window > MAX_DRAWDOWN_WINDOW) {
            revert LoanBookDrawdownWindowOutOfRange(window, MIN_DRAWDOWN_WINDOW, MAX_DRAWDOWN_WINDOW);
        }
        emit DrawdownWindowSet(msg.sender, drawdownWindow, window);
        drawdownWindow = window;
    }

    /// @notice Sets the smallest funding ticket.
    /// @param ticket Base units.
    function setMinTicket(uint64 ticket) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit MinTicketSet(msg.sender, minTicket, ticket);
        minTicket = ticket;
    }

    /// @notice Moves the fee recipient; fees already accrued go to the new treasury.
    /// @param newTreasury The new treasury address.
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert LoanBookZeroAddress();
        emit TreasurySet(msg.sender, treasury, newTreasury);
        treasury = newTreasury;
    }

    /// @notice Switches the backstop pool (zero disables cover); what is held for the old pool is
    /// sent to it first.
    /// @param newPool The new pool.
    function setPool(address newPool) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        _pushPoolReceivable();
        emit PoolSet(msg.sender, pool, newPool);
        pool = newPool;
    }

    /// @notice Stops new business: openLoan, fund, cancel, expire, drawdown, markDefault.
    /// Repayments, claims, refunds and fee claims keep working.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes new business.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @notice Number of loans opened; loan ids run from 1 to loanCount.
    function loanCount() external view returns (uint256) {
        return _nextLoanId - 1;
    }

    /// @notice The whole stored loan.
    /// @param loanId The loan.
    function getLoan(uint256 loanId) external view returns (Loan memory) {
        return _loans[loanId];
    }

    /// @notice A lender's position in a loan.
    /// @param loanId The loan.
    /// @param lender The lender.
    /// @return funded Base units funded.
    /// @return claimed Base units taken out so far (claims, or the refund).
    function positionOf(uint256 loanId, address lender) external view returns (uint256 funded, uint256 claimed) {
        Position memory position = _positions[loanId][lender];
        return (position.funded, position.claimed);
    }

    /// @notice What `lender` can claim from a loan right now.
    /// @param loanId The loan.
    /// @param lender The lender.
    function claimable(uint256 loanId, address lender) external view returns (uint256) {
        Position memory position = _positions[loanId][lender];
        return _claimable(_loans[loanId], position.funded, position.claimed);
    }

    /// @notice Base units distributable to all the loan's lenders so far (repayments after fee and
    /// premium, plus cover, minus recoveries returned to the pool).
    /// @param loanId The loan.
    function distributed(uint256 loanId) external view returns (uint256) {
        return _distributed(_loans[loanId]);
    }

    /// @notice Cumulative amount due after instalment k: floor(totalDue * k / installments).
    /// @param loanId The loan.
    /// @param k Instalment number, 0 to installments.
    function cumulativeDue(uint256 loanId, uint256 k) external view returns (uint256) {
        Loan storage loan = _loans[loanId];
        uint256 installments = loan.installments;
        if (installments == 0) revert LoanBookUnknownLoan(loanId);
        if (k > installments) revert LoanBookInstallmentOutOfRange(loanId, k, installments);
        return uint256(loan.totalDue) * k / installments;
    }

    /// @notice Base units past due and unpaid right now (zero for a loan not running).
    /// @param loanId The loan.
    function dueNow(uint256 loanId) external view returns (uint256) {
        Loan storage loan = _loans[loanId];
        LoanState state = loan.state;
        if (state != LoanState.Active && state != LoanState.Defaulted) return 0;
        uint256 installments = loan.installments;
        uint256 elapsed = (block.timestamp - loan.start) / loan.interval;
        if (elapsed > installments) elapsed = installments;
        uint256 due = uint256(loan.totalDue) * elapsed / installments;
        uint256 repaid = loan.repaid;
        return due > repaid ? due - repaid : 0;
    }

    /// @notice Due time of the earliest instalment not yet fully paid (zero when none, or when the
    /// loan is not running).
    /// @param loanId The loan.
    function nextDueTime(uint256 loanId) external view returns (uint256) {
        Loan storage loan = _loans[loanId];
        LoanState state = loan.state;
        if (state != LoanState.Active && state != LoanState.Defaulted) return 0;
        uint256 k = _firstUnpaidInstallment(loan);
        return k == 0 ? 0 : uint256(loan.start) + k * loan.interval;
    }

    /// @notice Time after which {markDefault} succeeds if nothing more is paid (zero when the loan
    /// is not Active or is fully repaid).
    /// @param loanId The loan.
    function defaultableAfter(uint256 loanId) external view returns (uint256) {
        Loan storage loan = _loans[loanId];
        if (loan.state != LoanState.Active) return 0;
        uint256 at = _defaultableAfter(loan);
        return at == type(uint256).max ? 0 : at;
    }

    /// @notice Base units still owed by the borrower (zero before drawdown).
    /// @param loanId The loan.
    function outstanding(uint256 loanId) external view returns (uint256) {
        Loan storage loan = _loans[loanId];
        if (loan.start == 0) return 0;
        return uint256(loan.totalDue) - loan.repaid;
    }

    /// @notice Principal not yet repaid: principal minus the principal part of repayments.
    /// @param loanId The loan.
    function outstandingPrincipal(uint256 loanId) external view returns (uint256) {
        Loan storage loan = _loans[loanId];
        if (loan.start == 0) return 0;
        return _outstandingPrincipal(loan);
    }

    /// @notice Whether an approval nonce has been used.
    /// @param nonce The nonce.
    function isNonceUsed(uint256 nonce) external view returns (bool) {
        return _usedNonces[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @notice The EIP-712 digest an underwriter signs for `a`.
    /// @param a The approval.
    function hashLoanApproval(LoanApproval calldata a) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(LOAN_APPROVAL_TYPEHASH, a)));
    }

    /// @notice The EIP-712 domain separator (name "Lendgram LoanBook", version "1").
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IPoolReceivable
    function poolReceivableOf(address pool_) external view returns (uint256) {
        return pool_ == pool && pool_ != address(0) ? poolReceivable : 0;
    }

    // ---------------------------------------------------------------- internals

    function _fund(uint256 loanId, uint256 amount) private returns (uint256 taken) {
        if (amount == 0) revert LoanBookZeroAmount();
        Loan storage loan = _loans[loanId];
        if (loan.state != LoanState.Funding) revert LoanBookFundingClosed(loanId);
        uint256 fundingDeadline = loan.fundingDeadline;
        if (block.timestamp > fundingDeadline) revert LoanBookFundingExpired(loanId, fundingDeadline);
        if (msg.sender == loan.borrower) revert LoanBookBorrowerCannotFund(loanId);

        uint256 principal = loan.principal;
        uint256 funded = loan.funded;
        uint256 remaining = principal - funded;
        taken = amount < remaining ? amount : remaining;
        if (taken != remaining) {
            uint256 ticket = minTicket;
            if (taken < ticket) revert LoanBookBelowMinTicket(loanId, taken, ticket);
        }
        funded += taken;
        loan.funded = uint96(funded);
        _positions[loanId][msg.sender].funded += uint128(taken);
        emit Funded(loanId, msg.sender, taken, funded);
        if (funded == principal) {
            loan.state = LoanState.Funded;
            emit FundingCompleted(loanId, principal);
        }
        stable.safeTransferFrom(msg.sender, address(this), taken);
    }

    function _claim(uint256 loanId, address lender) private returns (uint256 amount) {
        Position storage position = _positions[loanId][lender];
        uint256 claimed = position.claimed;
        amount = _claimable(_loans[loanId], position.funded, claimed);
        if (amount != 0) {
            position.claimed = uint128(claimed + amount);
            emit Claimed(loanId, lender, amount);
        }
    }

    function _claimable(Loan storage loan, uint256 funded, uint256 claimed) private view returns (uint256) {
        LoanState state = loan.state;
        if (state != LoanState.Active && state != LoanState.Repaid && state != LoanState.Defaulted) return 0;
        if (funded == 0) return 0;
        // Floor per lender: the sum over lenders never exceeds what was distributed.
        uint256 entitled = _distributed(loan) * funded / loan.principal;
        // `distributed` can step down by a base unit when a tiny payment carries more fee and
        // premium than itself (see repay); a lender who claimed just before waits for the next one.
        return entitled > claimed ? entitled - claimed : 0;
    }

    function _distributed(Loan storage loan) private view returns (uint256) {
        LoanState state = loan.state;
        if (state != LoanState.Active && state != LoanState.Repaid && state != LoanState.Defaulted) return 0;
        uint256 repaid = loan.repaid;
        uint256 interest = _interestPaid(repaid, loan.principal, loan.totalDue);
        uint256 toLenders = repaid - interest * loan.feeBps / BPS - interest * loan.premiumBps / BPS;
        if (state == LoanState.Defaulted) toLenders = toLenders + loan.covered - loan.recovered;
        return toLenders;
    }

    /// Interest part of the first `repaid` base units: floor(repaid * interest / totalDue).
    function _interestPaid(uint256 repaid, uint256 principal, uint256 totalDue) private pure returns (uint256) {
        return repaid * (totalDue - principal) / totalDue;
    }

    /// A recovery: the lenders' part of a payment on a defaulted loan refills the pool first, up to
    /// the cover it paid. Returns the part for the pool.
    function _recover(Loan storage loan, uint256 loanId, uint256 paid, uint256 toLenders)
        private
        returns (uint256 recovery)
    {
        uint256 recovered = loan.recovered;
        uint256 stillCovered = loan.covered - recovered;
        recovery = toLenders < stillCovered ? toLenders : stillCovered;
        if (recovery != 0) loan.recovered = uint96(recovered + recovery);
        emit Recovered(loanId, msg.sender, paid, recovery, toLenders - recovery);
    }

    /// Platform fee and premium of the payment that takes the loan from `repaidBefore` to
    /// `repaidAfter`, as differences of cumulative amounts so the parts always add up.
    function _charges(Loan storage loan, uint256 repaidBefore, uint256 repaidAfter)
        private
        view
        returns (uint256 fee, uint256 premium)
    {
        uint256 principal = loan.principal;
        uint256 totalDue = loan.totalDue;
        uint256 interestBefore = _interestPaid(repaidBefore, principal, totalDue);
        uint256 interestAfter = _interestPaid(repaidAfter, principal, totalDue);
        uint256 feeBps = loan.feeBps;
        uint256 loanPremiumBps = loan.premiumBps;
        fee = interestAfter * feeBps / BPS - interestBefore * feeBps / BPS;
        premium = interestAfter * loanPremiumBps / BPS - interestBefore * loanPremiumBps / BPS;
    }

    function _outstandingPrincipal(Loan storage loan) private view returns (uint256) {
        uint256 repaid = loan.repaid;
        uint256 principal = loan.principal;
        uint256 principalPaid = repaid - _interestPaid(repaid, principal, loan.totalDue);
        return principal - principalPaid;
    }

    /// Smallest k with floor(totalDue * k / n) > repaid, i.e. ceil((repaid + 1) * n / totalDue);
    /// zero when everything is repaid.
    function _firstUnpaidInstallment(Loan storage loan) private view returns (uint256) {
        uint256 totalDue = loan.totalDue;
        uint256 repaid = loan.repaid;
        if (repaid >= totalDue) return 0;
        return ((repaid + 1) * loan.installments + totalDue - 1) / totalDue;
    }

    function _defaultableAfter(Loan storage loan) private view returns (uint256) {
        uint256 k = _firstUnpaidInstallment(loan);
        if (k == 0) return type(uint256).max;
        return uint256(loan.start) + k * loan.interval + loan.gracePeriod;
    }

    function _isExpirable(Loan storage loan) private view returns (bool) {
        LoanState state = loan.state;
        if (state == LoanState.Funding) return block.timestamp > loan.fundingDeadline;
        if (state == LoanState.Funded) return block.timestamp > uint256(loan.fundingDeadline) + drawdownWindow;
        return false;
    }

    function _expire(uint256 loanId, Loan storage loan) private {
        loan.state = LoanState.Expired;
        emit LoanExpired(loanId, loan.funded);
    }

    function _useNonce(uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _usedNonces[nonce >> 8];
        if (word & bit != 0) revert LoanBookNonceUsed(nonce);
        _usedNonces[nonce >> 8] = word | bit;
    }

    function _pushPoolReceivable() private returns (uint256 amount) {
        address pool_ = pool;
        amount = poolReceivable;
        if (pool_ == address(0) || amount == 0) return 0;
        poolReceivable = 0;
        emit PoolReceivablePushed(pool_, amount);
        stable.safeTransfer(pool_, amount);
    }
}
