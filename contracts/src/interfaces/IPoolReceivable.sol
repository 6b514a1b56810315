// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPoolReceivable
/// @notice What the backstop pool needs from the LoanBook: the premiums and recoveries the
/// LoanBook holds for it and a way to have them sent over.
interface IPoolReceivable {
    /// @notice Base units the LoanBook holds for `pool` (zero unless `pool` is its current pool).
    function poolReceivableOf(address pool) external view returns (uint256);

    /// @notice Sends everything held for the current pool to it; returns the amount sent.
    function pushPoolReceivable() external returns (uint256);
}
