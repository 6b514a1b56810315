// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title MockStable
/// @notice A 6-decimal dollar stand-in with EIP-2612 permits, for local chains and tests only.
/// @dev Anyone may mint a capped amount per call through {faucet}; MINTER_ROLE mints any amount
/// (test set-up). Never deploy this to a network where the token is meant to have value.
contract MockStable is ERC20, ERC20Permit, AccessControl {
    /// @notice Role allowed to mint without the faucet cap.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Most base units one {faucet} call hands out: 10,000 tokens.
    uint256 public constant FAUCET_CAP = 10_000e6;

    /// @notice The faucet was asked for more than {FAUCET_CAP}.
    error MockStableFaucetCapExceeded(uint256 requested, uint256 cap);

    /// @param admin Receives DEFAULT_ADMIN_ROLE and MINTER_ROLE.
    constructor(address admin) ERC20("Lendgram Mock USD", "mUSD") ERC20Permit("Lendgram Mock USD") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Six decimals, like the production stable asset.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to the caller; at most {FAUCET_CAP} per call.
    /// @param amount Base units to mint.
    function faucet(uint256 amount) external {
        if (amount > FAUCET_CAP) revert MockStableFaucetCapExceeded(amount, FAUCET_CAP);
        _mint(msg.sender, amount);
    }

    /// @notice Mints any amount to `to`; for test and devnet set-up by MINTER_ROLE.
    /// @param to Receiver of the new tokens.
    /// @param amount Base units to mint.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
