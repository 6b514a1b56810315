// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "./Vm.sol";

/// @notice A minimal forge-std replacement: cheatcodes, assertions, `bound`, and the functions
/// forge calls on an invariant test to find its targets (`targetContracts`, `targetSelectors`,
/// `targetSenders`, `excludeContracts`, `excludeSenders`).
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// Same layout as forge-std's, which is what forge decodes.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;
    address[] private _targetedSenders;
    address[] private _excludedContracts;
    address[] private _excludedSenders;

    // ------------------------------------------------------------ called by forge

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    function excludeContracts() public view returns (address[] memory) {
        return _excludedContracts;
    }

    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }

    // ------------------------------------------------------------ invariant set-up

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function excludeContract(address target) internal {
        _excludedContracts.push(target);
    }

    // ------------------------------------------------------------ helpers

    /// A labelled address whose key is derived from `name`.
    function makeAddr(string memory name) internal returns (address account) {
        account = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(account, name);
    }

    /// A labelled address with its private key.
    function makeAccount(string memory name) internal returns (address account, uint256 key) {
        key = uint256(keccak256(bytes(name)));
        account = vm.addr(key);
        vm.label(account, name);
    }

    /// Maps `x` into [min, max], keeping values already inside unchanged (as forge-std does, so
    /// the fuzzer's edge values land on the range's edges).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: max < min");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (x <= 3 && size > x) return min + x;
        if (x >= type(uint256).max - 3 && size > type(uint256).max - x) return max - (type(uint256).max - x);
        if (x > max) {
            uint256 rem = (x - max) % size;
            return rem == 0 ? max : min + rem - 1;
        }
        uint256 remBelow = (min - x) % size;
        return remBelow == 0 ? min : max - remBelow + 1;
    }

    // ------------------------------------------------------------ assertions

    function assertEq(uint256 left, uint256 right) internal pure {
        vm.assertEq(left, right, "");
    }

    function assertEq(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(address left, address right) internal pure {
        vm.assertEq(left, right, "");
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        vm.assertEq(left, right, "");
    }

    function assertEq(bool left, bool right) internal pure {
        vm.assertEq(left, right, "");
    }

    function assertLe(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertLe(left, right, error);
    }

    function assertGe(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertGe(left, right, error);
    }

    function assertLt(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertLt(left, right, error);
    }

    function assertGt(uint256 left, uint256 right) internal pure {
        vm.assertGt(left, right, "");
    }

    function assertTrue(bool condition) internal pure {
        vm.assertTrue(condition, "");
    }

    function assertTrue(bool condition, string memory error) internal pure {
        vm.assertTrue(condition, error);
    }

    function assertFalse(bool condition) internal pure {
        vm.assertFalse(condition, "");
    }
}
