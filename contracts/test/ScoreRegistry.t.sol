// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ScoreRegistry} from "../src/ScoreRegistry.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice post, postBatch, postSigned, staleness, expiry, the EIP-712 hash.
contract ScoreRegistryTest is Fixture {
    // ------------------------------------------------------------ post

    function test_post_recordsTheAttestationAndEmits() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        bytes32 digest = _digest(s);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ScoreRegistry.ScoreAttested(alice, scorer, digest, 720, 2, 3, s.issuedAt, s.expiry);
        vm.prank(scorer);
        registry.post(s);

        ScoreRegistry.Attestation memory stored = registry.attestationOf(alice);
        assertEq(stored.score, 720);
        assertEq(stored.grade, 2);
        assertEq(stored.modelVersion, 3);
        assertEq(stored.issuedAt, s.issuedAt);
        assertEq(stored.expiry, s.expiry);
        assertEq(stored.attestationHash, digest);
        assertTrue(registry.hasValidScore(alice));
    }

    function test_post_replacesAnOlderAttestation() public {
        vm.prank(scorer);
        registry.post(_attestation(alice, 600));
        vm.warp(block.timestamp + 1 days);
        vm.prank(scorer);
        registry.post(_attestation(alice, 650));
        assertEq(registry.attestationOf(alice).score, 650);
    }

    function test_post_revertsWhenStale() public {
        ScoreRegistry.ScoreAttestation memory older = _attestation(alice, 600);
        vm.warp(block.timestamp + 1 days);
        ScoreRegistry.ScoreAttestation memory newer = _attestation(alice, 650);
        vm.prank(scorer);
        registry.post(newer);
        vm.expectRevert(
            abi.encodeWithSelector(
                ScoreRegistry.ScoreRegistryStaleAttestation.selector, alice, older.issuedAt, newer.issuedAt
            )
        );
        vm.prank(scorer);
        registry.post(older);
    }

    function test_post_revertsWhenReplayed() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 600);
        vm.prank(scorer);
        registry.post(s);
        vm.expectRevert(
            abi.encodeWithSelector(ScoreRegistry.ScoreRegistryStaleAttestation.selector, alice, s.issuedAt, s.issuedAt)
        );
        vm.prank(scorer);
        registry.post(s);
    }

    function test_post_revertsWhenCallerIsNotScorer() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, bob, registry.SCORER_ROLE()
            )
        );
        vm.prank(bob);
        registry.post(_attestation(alice, 600));
    }

    function test_post_revertsWhenBorrowerIsZero() public {
        vm.expectRevert(ScoreRegistry.ScoreRegistryZeroBorrower.selector);
        vm.prank(scorer);
        registry.post(_attestation(address(0), 600));
    }

    function test_post_revertsWhenExpiryIsNotAfterIssuance() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 600);
        s.expiry = s.issuedAt;
        vm.expectRevert(abi.encodeWithSelector(ScoreRegistry.ScoreRegistryInvalidTimes.selector, s.issuedAt, s.expiry));
        vm.prank(scorer);
        registry.post(s);
    }

    function test_post_revertsWhenIssuedAtIsZero() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 600);
        s.issuedAt = 0;
        vm.expectRevert(abi.encodeWithSelector(ScoreRegistry.ScoreRegistryInvalidTimes.selector, 0, s.expiry));
        vm.prank(scorer);
        registry.post(s);
    }

    function test_post_revertsWhenAlreadyExpired() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 600);
        vm.warp(s.expiry);
        vm.expectRevert(abi.encodeWithSelector(ScoreRegistry.ScoreRegistryAttestationExpired.selector, alice, s.expiry));
        vm.prank(scorer);
        registry.post(s);
    }

    function test_post_revertsWhenPaused() public {
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(scorer);
        registry.post(_attestation(alice, 600));
    }

    function test_unpause_resumesPosting() public {
        vm.startPrank(admin);
        registry.pause();
        registry.unpause();
        vm.stopPrank();
        vm.prank(scorer);
        registry.post(_attestation(alice, 600));
        assertTrue(registry.hasValidScore(alice));
    }

    function test_pause_revertsWhenCallerIsNotPauser() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, bob, registry.PAUSER_ROLE()
            )
        );
        vm.prank(bob);
        registry.pause();
    }

    // ------------------------------------------------------------ postBatch

    function test_postBatch_recordsManyAndSkipsStaleOnes() public {
        vm.prank(scorer);
        registry.post(_attestation(carol, 500));
        ScoreRegistry.ScoreAttestation[] memory batch = new ScoreRegistry.ScoreAttestation[](3);
        batch[0] = _attestation(alice, 700);
        batch[1] = _attestation(bob, 710);
        batch[2] = _attestation(carol, 800); // same issuedAt as the stored one: stale
        vm.expectEmit(true, true, true, true, address(registry));
        emit ScoreRegistry.ScoreSkipped(carol, batch[2].issuedAt, batch[2].issuedAt);
        vm.prank(scorer);
        assertEq(registry.postBatch(batch), 2);
        assertEq(registry.attestationOf(alice).score, 700);
        assertEq(registry.attestationOf(bob).score, 710);
        assertEq(registry.attestationOf(carol).score, 500);
    }

    function test_postBatch_revertsOnAnInvalidEntry() public {
        ScoreRegistry.ScoreAttestation[] memory batch = new ScoreRegistry.ScoreAttestation[](2);
        batch[0] = _attestation(alice, 700);
        batch[1] = _attestation(address(0), 710);
        vm.expectRevert(ScoreRegistry.ScoreRegistryZeroBorrower.selector);
        vm.prank(scorer);
        registry.postBatch(batch);
    }

    function test_postBatch_revertsWhenCallerIsNotScorer() public {
        ScoreRegistry.ScoreAttestation[] memory batch = new ScoreRegistry.ScoreAttestation[](1);
        batch[0] = _attestation(alice, 700);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, bob, registry.SCORER_ROLE()
            )
        );
        vm.prank(bob);
        registry.postBatch(batch);
    }

    function test_postBatch_revertsWhenPaused() public {
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(scorer);
        registry.postBatch(new ScoreRegistry.ScoreAttestation[](0));
    }

    // ------------------------------------------------------------ postSigned

    function test_postSigned_acceptsAScorerSignatureFromAnyone() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        bytes memory signature = _sign(scorerKey, _digest(s));
        vm.expectEmit(true, true, true, true, address(registry));
        emit ScoreRegistry.ScoreAttested(alice, scorer, _digest(s), 720, 2, 3, s.issuedAt, s.expiry);
        vm.prank(dave);
        registry.postSigned(s, signature);
        assertEq(registry.attestationOf(alice).score, 720);
    }

    function test_postSigned_revertsWhenSignerIsNotScorer() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        bytes memory signature = _sign(underwriterKey, _digest(s));
        vm.expectRevert(abi.encodeWithSelector(ScoreRegistry.ScoreRegistryInvalidScorer.selector, underwriter));
        registry.postSigned(s, signature);
    }

    function test_postSigned_revertsWhenSignatureMalformed() public {
        vm.expectRevert(ScoreRegistry.ScoreRegistryInvalidSignature.selector);
        registry.postSigned(_attestation(alice, 720), hex"00");
    }

    function test_postSigned_revertsWhenReplayed() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        bytes memory signature = _sign(scorerKey, _digest(s));
        registry.postSigned(s, signature);
        vm.expectRevert(
            abi.encodeWithSelector(ScoreRegistry.ScoreRegistryStaleAttestation.selector, alice, s.issuedAt, s.issuedAt)
        );
        registry.postSigned(s, signature);
    }

    function test_postSigned_revertsWhenPaused() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        bytes memory signature = _sign(scorerKey, _digest(s));
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.postSigned(s, signature);
    }

    // ------------------------------------------------------------ views

    function test_hasValidScore_endsAtExpiry() public {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        assertFalse(registry.hasValidScore(alice));
        vm.prank(scorer);
        registry.post(s);
        vm.warp(s.expiry - 1);
        assertTrue(registry.hasValidScore(alice));
        vm.warp(s.expiry);
        assertFalse(registry.hasValidScore(alice));
    }

    function test_hashAttestation_matchesEip712() public view {
        ScoreRegistry.ScoreAttestation memory s = _attestation(alice, 720);
        assertEq(registry.hashAttestation(s), _digest(s));
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Lendgram ScoreRegistry"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        assertEq(registry.DOMAIN_SEPARATOR(), domain);
    }

    // ------------------------------------------------------------ helpers

    function _attestation(address borrower, uint16 score)
        internal
        view
        returns (ScoreRegistry.ScoreAttestation memory)
    {
        return ScoreRegistry.ScoreAttestation({
            borrower: borrower,
            score: score,
            grade: 2,
            modelVersion: 3,
            issuedAt: uint64(block.timestamp),
            expiry: uint64(block.timestamp + 30 days)
        });
    }

    function _digest(ScoreRegistry.ScoreAttestation memory s) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Lendgram ScoreRegistry"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "ScoreAttestation(address borrower,uint16 score,uint8 grade,uint32 modelVersion,uint64 issuedAt,"
                    "uint64 expiry)"
                ),
                s.borrower,
                s.score,
                s.grade,
                s.modelVersion,
                s.issuedAt,
                s.expiry
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }
}
