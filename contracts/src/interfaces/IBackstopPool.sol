// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IBackstopPool
/// @notice What LoanBook needs from the backstop pool.
interface IBackstopPool {
    /// @notice Pays `amount` of the asset to the caller (the LoanBook) to cover part of a default.
    /// @param loanId The defaulted loan, for the pool's records.
    /// @param amount Base units to pay; at most {coverCapacity}.
    function coverLoss(uint256 loanId, uint256 amount) external;

    /// @notice Most base units the pool can pay out right now.
    function coverCapacity() external view returns (uint256);
}
