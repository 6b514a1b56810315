// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice What {ReentrantToken} calls on a holder that opted in to hooks.
interface ITokenHook {
    function onTokenTransfer(address from, address to, uint256 amount) external;
}

/// @notice Test-only 6-decimal token with ERC-777-style hooks: a sender that opted in is called
/// before its balance moves (like `tokensToSend`), a receiver after (like `tokensReceived`). It
/// stands for any stable asset that hands control to a holder in the middle of a transfer.
contract ReentrantToken is ERC20 {
    mapping(address holder => bool) public hooked;

    constructor() ERC20("Reentrant USD", "rUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// The caller asks to be called on every transfer from or to it.
    function setHooked(bool on) external {
        hooked[msg.sender] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (hooked[from]) ITokenHook(from).onTokenTransfer(from, to, value);
        super._update(from, to, value);
        if (hooked[to]) ITokenHook(to).onTokenTransfer(from, to, value);
    }
}

/// @notice A borrower, lender or depositor that is a contract: it acts through {exec} and, once
/// armed, makes one planned call back into a target from inside the token's hook, recording how
/// that call ended instead of failing the outer one (so the test can check both).
contract ReentrantActor is ITokenHook {
    address public target;
    bytes public reentry;
    bool public armed;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    /// Makes a call as this contract; reverts with the callee's revert data.
    function exec(address to, bytes calldata data) external returns (bytes memory result) {
        bool ok;
        (ok, result) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
    }

    /// The next token transfer from or to this contract calls `target` with `data`.
    function arm(address target_, bytes calldata data) external {
        target = target_;
        reentry = data;
        armed = true;
    }

    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        reentered = true;
        (reentrySucceeded, reentryRevertData) = target.call(reentry);
    }
}
