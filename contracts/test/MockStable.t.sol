// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {MockStable} from "../src/MockStable.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice decimals, faucet, mint, permit.
contract MockStableTest is Fixture {
    function test_decimals_isSix() public view {
        assertEq(stable.decimals(), 6);
    }

    function test_faucet_mintsToTheCaller() public {
        (address frank,) = makeAccount("frank");
        vm.prank(frank);
        stable.faucet(10_000 * USD);
        assertEq(stable.balanceOf(frank), 10_000 * USD);
    }

    function test_faucet_revertsAboveTheCap() public {
        vm.expectRevert(
            abi.encodeWithSelector(MockStable.MockStableFaucetCapExceeded.selector, 10_000 * USD + 1, 10_000 * USD)
        );
        stable.faucet(10_000 * USD + 1);
    }

    function test_mint_revertsWhenCallerIsNotMinter() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, stable.MINTER_ROLE())
        );
        vm.prank(bob);
        stable.mint(bob, 1);
    }

    function test_permit_setsTheAllowance() public {
        (address frank, uint256 frankKey) = makeAccount("frank");
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                frank,
                bob,
                123,
                0,
                deadline
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(frankKey, keccak256(abi.encodePacked("\x19\x01", stable.DOMAIN_SEPARATOR(), structHash)));
        stable.permit(frank, bob, 123, deadline, v, r, s);
        assertEq(stable.allowance(frank, bob), 123);
        assertEq(stable.nonces(frank), 1);
    }
}
