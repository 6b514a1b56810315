// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IBackstopPool} from "./interfaces/IBackstopPool.sol";
import {IPoolReceivable} from "./interfaces/IPoolReceivable.sol";

/// @title LiquidityBackstopPool
/// @notice ERC-4626 vault over the stable asset that earns the backstop premium on every loan's
/// interest and covers part of the outstanding principal when a loan defaults.
/// @dev Accounting: totalAssets = asset balance + what the LoanBook holds for the pool (premiums
/// and recoveries it accrues instead of paying a transfer on every repayment). Counting the
/// receivable at once keeps the share price from jumping when it arrives, so nobody can deposit
/// just before a push to skim it. Without donations:
/// totalAssets == deposits + premiums - covers + recoveries - withdrawals.
/// Withdrawals go through a cooldown: {requestWithdraw}, wait {cooldownPeriod}, then
/// withdraw/redeem within {withdrawWindow}. A depositor who sees a default coming therefore cannot
/// leave before it lands (a loan needs a missed instalment plus its grace period to default). A
/// request never covers more shares than the owner held without a break since making it: moving
/// shares out shrinks it, so shares cannot be routed through an address whose window is open.
contract LiquidityBackstopPool is ERC4626, AccessControl, ReentrancyGuardTransient, Pausable, IBackstopPool {
    using SafeERC20 for IERC20;

    /// @notice Held by the LoanBook: the only caller that may take cover.
    bytes32 public constant LOANBOOK_ROLE = keccak256("LOANBOOK_ROLE");
    /// @notice Pauses and unpauses deposits.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Longest cooldown the admin may set.
    uint256 public constant MAX_COOLDOWN_PERIOD = 90 days;
    /// @notice Shortest withdrawal window the admin may set.
    uint256 public constant MIN_WITHDRAW_WINDOW = 1 hours;
    /// @notice Longest withdrawal window the admin may set.
    uint256 public constant MAX_WITHDRAW_WINDOW = 30 days;

    /// @notice A depositor's pending withdrawal: `shares` may leave from `readyAt` to `windowEnd`.
    struct WithdrawRequest {
        uint128 shares;
        uint64 readyAt;
        uint64 windowEnd;
    }

    /// @notice Seconds between a withdrawal request and the start of its window.
    uint32 public cooldownPeriod;
    /// @notice Seconds a matured request stays usable.
    uint32 public withdrawWindow;
    /// @notice The LoanBook whose receivable this pool counts and which may take cover.
    address public loanBook;

    mapping(address owner => WithdrawRequest) private _withdrawRequests;

    /// @notice `owner` may withdraw `shares` between `readyAt` and `windowEnd`.
    event WithdrawRequested(address indexed owner, uint256 shares, uint256 readyAt, uint256 windowEnd);
    /// @notice `owner` dropped their pending request.
    event WithdrawRequestCancelled(address indexed owner, uint256 shares);
    /// @notice The pool paid `amount` to `loanBook` towards the default of `loanId`.
    event LossCovered(address indexed loanBook, uint256 indexed loanId, uint256 amount);
    /// @notice Admin pointed the pool at another LoanBook.
    event LoanBookSet(address indexed admin, address indexed previousLoanBook, address indexed newLoanBook);
    /// @notice Admin changed the cooldown and window for new withdrawal requests.
    event CooldownSet(address indexed admin, uint256 cooldownPeriod, uint256 withdrawWindow);

    error PoolZeroShares();
    error PoolInsufficientShares(uint256 requested, uint256 balance);
    error PoolNoWithdrawRequest(address owner);
    error PoolWithdrawNotReady(address owner, uint256 shares, uint256 allowedShares);
    error PoolInsufficientLiquidity(uint256 requested, uint256 available);
    error PoolCooldownOutOfRange(uint256 cooldownPeriod, uint256 withdrawWindow);

    /// @param asset_ The 6-decimal stable asset.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    constructor(IERC20 asset_, address admin) ERC20("Lendgram Backstop Share", "lgBACK") ERC4626(asset_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        cooldownPeriod = 7 days;
        withdrawWindow = 2 days;
        emit CooldownSet(admin, 7 days, 2 days);
    }

    // ---------------------------------------------------------------- ERC-4626

    /// @notice Asset balance plus the premiums and recoveries the LoanBook holds for the pool.
    function totalAssets() public view override returns (uint256) {
        return IERC20(asset()).balanceOf(address(this)) + _receivable();
    }

    /// @notice Zero while paused (ERC-4626: max* must reflect what would revert).
    function maxDeposit(address receiver) public view override returns (uint256) {
        return paused() ? 0 : super.maxDeposit(receiver);
    }

    /// @notice Zero while paused.
    function maxMint(address receiver) public view override returns (uint256) {
        return paused() ? 0 : super.maxMint(receiver);
    }

    /// @notice Shares `owner` may redeem now: their matured request, within its window.
    function maxRedeem(address owner) public view override returns (uint256) {
        WithdrawRequest memory request = _withdrawRequests[owner];
        if (block.timestamp < request.readyAt || block.timestamp > request.windowEnd) return 0;
        uint256 balance = balanceOf(owner);
        return request.shares < balance ? request.shares : balance;
    }

    /// @notice Deposits `assets`, minting shares to `receiver`. Not while paused.
    function deposit(uint256 assets, address receiver) public override whenNotPaused nonReentrant returns (uint256) {
        return super.deposit(assets, receiver);
    }

    /// @notice Mints exactly `shares` to `receiver`. Not while paused.
    function mint(uint256 shares, address receiver) public override whenNotPaused nonReentrant returns (uint256) {
        return super.mint(shares, receiver);
    }

    /// @notice Withdraws `assets` against `owner`'s matured request. Works while paused.
    function withdraw(uint256 assets, address receiver, address owner) public override nonReentrant returns (uint256) {
        return super.withdraw(assets, receiver, owner);
    }

    /// @notice Redeems `shares` against `owner`'s matured request. Works while paused.
    function redeem(uint256 shares, address receiver, address owner) public override nonReentrant returns (uint256) {
        return super.redeem(shares, receiver, owner);
    }

    // ---------------------------------------------------------------- cooldown

    /// @notice Starts the cooldown for `shares` of the caller's; replaces any earlier request.
    /// Works while paused.
    /// @param shares Shares to withdraw later.
    /// @return readyAt When the withdrawal window opens.
    function requestWithdraw(uint256 shares) external returns (uint256 readyAt) {
        if (shares == 0) revert PoolZeroShares();
        uint256 balance = balanceOf(msg.sender);
        if (shares > balance) revert PoolInsufficientShares(shares, balance);
        readyAt = block.timestamp + cooldownPeriod;
        uint256 windowEnd = readyAt + withdrawWindow;
        _withdrawRequests[msg.sender] =
            WithdrawRequest({shares: uint128(shares), readyAt: uint64(readyAt), windowEnd: uint64(windowEnd)});
        emit WithdrawRequested(msg.sender, shares, readyAt, windowEnd);
    }

    /// @notice Drops the caller's pending withdrawal request.
    function cancelWithdrawRequest() external {
        uint256 shares = _withdrawRequests[msg.sender].shares;
        if (shares == 0) revert PoolNoWithdrawRequest(msg.sender);
        delete _withdrawRequests[msg.sender];
        emit WithdrawRequestCancelled(msg.sender, shares);
    }

    /// @notice `owner`'s pending request.
    /// @param owner The depositor.
    function withdrawRequestOf(address owner)
        external
        view
        returns (uint256 shares, uint256 readyAt, uint256 windowEnd)
    {
        WithdrawRequest memory request = _withdrawRequests[owner];
        return (request.shares, request.readyAt, request.windowEnd);
    }

    // ---------------------------------------------------------------- cover

    /// @inheritdoc IBackstopPool
    function coverLoss(uint256 loanId, uint256 amount) external onlyRole(LOANBOOK_ROLE) nonReentrant {
        uint256 available = IERC20(asset()).balanceOf(address(this));
        if (amount > available) revert PoolInsufficientLiquidity(amount, available);
        emit LossCovered(msg.sender, loanId, amount);
        IERC20(asset()).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IBackstopPool
    function coverCapacity() external view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    // ---------------------------------------------------------------- admin

    /// @notice Points the pool at its LoanBook and moves LOANBOOK_ROLE to it.
    /// @param newLoanBook The LoanBook (zero to detach).
    function setLoanBook(address newLoanBook) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address previous = loanBook;
        if (previous != address(0)) _revokeRole(LOANBOOK_ROLE, previous);
        if (newLoanBook != address(0)) _grantRole(LOANBOOK_ROLE, newLoanBook);
        loanBook = newLoanBook;
        emit LoanBookSet(msg.sender, previous, newLoanBook);
    }

    /// @notice Sets the withdrawal cooldown and window for requests made from now on.
    /// @param cooldownPeriod_ Seconds, at most {MAX_COOLDOWN_PERIOD}.
    /// @param withdrawWindow_ Seconds, between {MIN_WITHDRAW_WINDOW} and {MAX_WITHDRAW_WINDOW}.
    function setCooldown(uint32 cooldownPeriod_, uint32 withdrawWindow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (
            cooldownPeriod_ > MAX_COOLDOWN_PERIOD || withdrawWindow_ < MIN_WITHDRAW_WINDOW
                || withdrawWindow_ > MAX_WITHDRAW_WINDOW
        ) revert PoolCooldownOutOfRange(cooldownPeriod_, withdrawWindow_);
        cooldownPeriod = cooldownPeriod_;
        withdrawWindow = withdrawWindow_;
        emit CooldownSet(msg.sender, cooldownPeriod_, withdrawWindow_);
    }

    /// @notice Stops deposits. Withdrawals and cover keep working.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes deposits.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- internals

    /// Virtual shares and assets: 10**6 virtual shares per virtual asset unit (shares have 12
    /// decimals). A first depositor who donates to inflate the share price must give up about
    /// 10**6 times what rounding could take from the next depositor, so the inflation attack never
    /// pays.
    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        WithdrawRequest storage request = _withdrawRequests[owner];
        uint256 allowed = maxRedeem(owner);
        if (shares > allowed) revert PoolWithdrawNotReady(owner, shares, allowed);
        request.shares -= uint128(shares);
        super._withdraw(caller, receiver, owner, assets, shares);
    }

    /// A transfer out shrinks the sender's request to the shares it still holds, so a request only
    /// ever covers shares that stayed in the account since it was made. Otherwise a request left
    /// behind by shares moved away would let shares received later (fresh deposits, bought on the
    /// side) leave at once, skipping the cooldown. Incoming shares change nothing: they neither
    /// join a pending request nor delay it (sending dust must not push back someone's window).
    /// Burns need no check: {_withdraw} already takes the redeemed shares off the request.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from == address(0) || to == address(0)) return;
        WithdrawRequest storage request = _withdrawRequests[from];
        uint256 balance = balanceOf(from);
        if (request.shares > balance) request.shares = uint128(balance);
    }

    /// Pays out of the balance, fetching the LoanBook's receivable first when the balance is short.
    function _transferOut(address to, uint256 assets) internal override {
        if (IERC20(asset()).balanceOf(address(this)) < assets && loanBook != address(0)) {
            IPoolReceivable(loanBook).pushPoolReceivable();
        }
        super._transferOut(to, assets);
    }

    function _receivable() private view returns (uint256) {
        address loanBook_ = loanBook;
        return loanBook_ == address(0) ? 0 : IPoolReceivable(loanBook_).poolReceivableOf(address(this));
    }
}
