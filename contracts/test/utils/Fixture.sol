// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {LiquidityBackstopPool} from "../../src/LiquidityBackstopPool.sol";
import {LoanBook} from "../../src/LoanBook.sol";
import {MockStable} from "../../src/MockStable.sol";
import {ScoreRegistry} from "../../src/ScoreRegistry.sol";
import {Test} from "./Test.sol";

/// @notice The deployed system and its cast (alice borrows, bob/carol/dave lend, erin deposits
/// into the pool), plus helpers that sign approvals and walk a loan through its life.
abstract contract Fixture is Test {
    uint256 internal constant USD = 1e6;
    uint256 internal constant START_TIME = 1_750_000_000;
    uint32 internal constant MONTH = 30 days;
    uint256 internal constant BPS = 10_000;

    MockStable internal stable;
    ScoreRegistry internal registry;
    LiquidityBackstopPool internal pool;
    LoanBook internal book;

    address internal admin;
    address internal treasury;
    address internal underwriter;
    uint256 internal underwriterKey;
    address internal scorer;
    uint256 internal scorerKey;

    address internal alice;
    address internal bob;
    address internal carol;
    address internal dave;
    address internal erin;

    uint256 internal nextNonce = 1;

    function setUp() public virtual {
        vm.warp(START_TIME);
        admin = makeAddr("admin");
        treasury = makeAddr("treasury");
        (underwriter, underwriterKey) = makeAccount("underwriter");
        (scorer, scorerKey) = makeAccount("scorer");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        dave = makeAddr("dave");
        erin = makeAddr("erin");

        stable = new MockStable(admin);
        registry = new ScoreRegistry(admin);
        pool = new LiquidityBackstopPool(IERC20(address(stable)), admin);
        book = new LoanBook(IERC20(address(stable)), admin, treasury, address(pool));
        vm.startPrank(admin);
        pool.setLoanBook(address(book));
        book.grantRole(book.UNDERWRITER_ROLE(), underwriter);
        registry.grantRole(registry.SCORER_ROLE(), scorer);
        vm.stopPrank();

        address[5] memory people = [alice, bob, carol, dave, erin];
        for (uint256 i; i < people.length; ++i) {
            _mint(people[i], 1_000_000 * USD);
            vm.prank(people[i]);
            stable.approve(address(book), type(uint256).max);
            vm.prank(people[i]);
            stable.approve(address(pool), type(uint256).max);
        }
    }

    // ------------------------------------------------------------ tokens

    function _mint(address to, uint256 amount) internal {
        vm.prank(admin);
        stable.mint(to, amount);
    }

    // ------------------------------------------------------------ approvals

    /// 1,000 USD for 1,060 USD over 6 monthly instalments, funding open for a week.
    function _approval(address borrower) internal returns (LoanBook.LoanApproval memory a) {
        a = LoanBook.LoanApproval({
            borrower: borrower,
            principal: 1_000 * USD,
            totalDue: 1_060 * USD,
            installments: 6,
            interval: MONTH,
            fundingDeadline: uint64(block.timestamp + 7 days),
            grade: 2,
            nonce: nextNonce++,
            expiry: uint64(block.timestamp + 1 days)
        });
    }

    /// EIP-712 digest computed here from first principles (not with the contract's helper).
    function _approvalDigest(LoanBook.LoanApproval memory a) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Lendgram LoanBook"),
                keccak256("1"),
                block.chainid,
                address(book)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "LoanApproval(address borrower,uint256 principal,uint256 totalDue,uint16 installments,"
                    "uint32 interval,uint64 fundingDeadline,uint8 grade,uint256 nonce,uint64 expiry)"
                ),
                a.borrower,
                a.principal,
                a.totalDue,
                a.installments,
                a.interval,
                a.fundingDeadline,
                a.grade,
                a.nonce,
                a.expiry
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _signApproval(LoanBook.LoanApproval memory a) internal view returns (bytes memory) {
        return _sign(underwriterKey, _approvalDigest(a));
    }

    // ------------------------------------------------------------ loan life

    function _open(LoanBook.LoanApproval memory a) internal returns (uint256 loanId) {
        bytes memory signature = _signApproval(a);
        vm.prank(a.borrower);
        loanId = book.openLoan(a, signature);
    }

    function _openDefault() internal returns (uint256) {
        return _open(_approval(alice));
    }

    function _fund(uint256 loanId, address lender, uint256 amount) internal returns (uint256 taken) {
        vm.prank(lender);
        taken = book.fund(loanId, amount);
    }

    /// Opens the default loan, funds it 600 bob / 400 carol, and draws it down.
    function _activeLoan() internal returns (uint256 loanId) {
        loanId = _openDefault();
        _fund(loanId, bob, 600 * USD);
        _fund(loanId, carol, 400 * USD);
        vm.prank(alice);
        book.drawdown(loanId);
    }

    function _repay(uint256 loanId, address payer, uint256 amount) internal returns (uint256 paid) {
        vm.prank(payer);
        paid = book.repay(loanId, amount);
    }

    function _deposit(address depositor, uint256 amount) internal returns (uint256 shares) {
        vm.prank(depositor);
        shares = pool.deposit(amount, depositor);
    }

    function _state(uint256 loanId) internal view returns (LoanBook.LoanState) {
        return book.getLoan(loanId).state;
    }

    function _assertState(uint256 loanId, LoanBook.LoanState expected) internal view {
        assertEq(uint256(_state(loanId)), uint256(expected), "loan state");
    }

    // Reference arithmetic of the money rules, written independently of the contract.

    function _interestPaid(uint256 repaid, uint256 principal, uint256 totalDue) internal pure returns (uint256) {
        return repaid * (totalDue - principal) / totalDue;
    }

    function _feesFor(uint256 repaid, uint256 principal, uint256 totalDue, uint256 bps)
        internal
        pure
        returns (uint256)
    {
        return _interestPaid(repaid, principal, totalDue) * bps / BPS;
    }
}
