// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title ScoreRegistry
/// @notice The latest credit-score attestation per borrower, posted by a scorer directly or by
/// anyone carrying a scorer's EIP-712 signature.
/// @dev An attestation is accepted only if it is strictly newer (issuedAt) than the stored one:
/// older ones and replays of the stored one are stale. {postBatch} skips stale entries so a batch
/// job can be re-run; {post} and {postSigned} revert on them.
contract ScoreRegistry is AccessControl, EIP712, Pausable {
    /// @notice Posts attestations and signs them for {postSigned}.
    bytes32 public constant SCORER_ROLE = keccak256("SCORER_ROLE");
    /// @notice Pauses and unpauses posting.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice EIP-712 type hash of {ScoreAttestation}.
    bytes32 public constant SCORE_ATTESTATION_TYPEHASH = keccak256(
        "ScoreAttestation(address borrower,uint16 score,uint8 grade,uint32 modelVersion,uint64 issuedAt,uint64 expiry)"
    );

    /// @notice What a scorer attests (EIP-712 typed data).
    struct ScoreAttestation {
        address borrower;
        uint16 score;
        uint8 grade;
        uint32 modelVersion;
        uint64 issuedAt;
        uint64 expiry;
    }

    /// @notice What is stored per borrower; `attestationHash` is the EIP-712 digest.
    struct Attestation {
        uint16 score;
        uint8 grade;
        uint32 modelVersion;
        uint64 expiry;
        bytes32 attestationHash;
        uint64 issuedAt;
    }

    mapping(address borrower => Attestation) private _attestations;

    /// @notice A new latest score for `borrower`, vouched for by `scorer`.
    event ScoreAttested(
        address indexed borrower,
        address indexed scorer,
        bytes32 indexed attestationHash,
        uint16 score,
        uint8 grade,
        uint32 modelVersion,
        uint64 issuedAt,
        uint64 expiry
    );
    /// @notice {postBatch} skipped a stale attestation.
    event ScoreSkipped(address indexed borrower, uint64 issuedAt, uint64 storedIssuedAt);

    error ScoreRegistryZeroBorrower();
    error ScoreRegistryInvalidTimes(uint64 issuedAt, uint64 expiry);
    error ScoreRegistryAttestationExpired(address borrower, uint64 expiry);
    error ScoreRegistryStaleAttestation(address borrower, uint64 issuedAt, uint64 storedIssuedAt);
    error ScoreRegistryInvalidSignature();
    error ScoreRegistryInvalidScorer(address signer);

    /// @param admin Receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    constructor(address admin) EIP712("Lendgram ScoreRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @notice Records one attestation; only a scorer.
    /// @param s The attestation.
    function post(ScoreAttestation calldata s) external onlyRole(SCORER_ROLE) whenNotPaused {
        (bool fresh, uint64 storedIssuedAt) = _isFresh(s);
        if (!fresh) revert ScoreRegistryStaleAttestation(s.borrower, s.issuedAt, storedIssuedAt);
        _record(s, msg.sender);
    }

    /// @notice Records many attestations; stale ones are skipped (event), invalid ones revert.
    /// @param batch The attestations.
    /// @return recorded How many were recorded.
    function postBatch(ScoreAttestation[] calldata batch)
        external
        onlyRole(SCORER_ROLE)
        whenNotPaused
        returns (uint256 recorded)
    {
        for (uint256 i; i < batch.length; ++i) {
            (bool fresh, uint64 storedIssuedAt) = _isFresh(batch[i]);
            if (!fresh) {
                emit ScoreSkipped(batch[i].borrower, batch[i].issuedAt, storedIssuedAt);
                continue;
            }
            _record(batch[i], msg.sender);
            ++recorded;
        }
    }

    /// @notice Records an attestation signed by a scorer; anyone may submit it.
    /// @param s The attestation.
    /// @param signature The scorer's EIP-712 signature over `s`.
    function postSigned(ScoreAttestation calldata s, bytes calldata signature) external whenNotPaused {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hashAttestation(s), signature);
        if (err != ECDSA.RecoverError.NoError) revert ScoreRegistryInvalidSignature();
        if (!hasRole(SCORER_ROLE, signer)) revert ScoreRegistryInvalidScorer(signer);
        (bool fresh, uint64 storedIssuedAt) = _isFresh(s);
        if (!fresh) revert ScoreRegistryStaleAttestation(s.borrower, s.issuedAt, storedIssuedAt);
        _record(s, signer);
    }

    /// @notice Stops posting.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes posting.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice The latest attestation for `borrower` (all zero when none).
    /// @param borrower The borrower.
    function attestationOf(address borrower) external view returns (Attestation memory) {
        return _attestations[borrower];
    }

    /// @notice Whether `borrower` has an attestation that has not expired.
    /// @param borrower The borrower.
    function hasValidScore(address borrower) external view returns (bool) {
        Attestation storage a = _attestations[borrower];
        return a.issuedAt != 0 && block.timestamp < a.expiry;
    }

    /// @notice The EIP-712 digest of `s`, which a scorer signs and which is stored as its hash.
    /// @param s The attestation.
    function hashAttestation(ScoreAttestation calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SCORE_ATTESTATION_TYPEHASH, s)));
    }

    /// @notice The EIP-712 domain separator (name "Lendgram ScoreRegistry", version "1").
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// Validates the fields (reverting on nonsense) and compares with what is stored.
    function _isFresh(ScoreAttestation calldata s) private view returns (bool fresh, uint64 storedIssuedAt) {
        if (s.borrower == address(0)) revert ScoreRegistryZeroBorrower();
        if (s.issuedAt == 0 || s.expiry <= s.issuedAt) revert ScoreRegistryInvalidTimes(s.issuedAt, s.expiry);
        if (s.expiry <= block.timestamp) revert ScoreRegistryAttestationExpired(s.borrower, s.expiry);
        storedIssuedAt = _attestations[s.borrower].issuedAt;
        fresh = s.issuedAt > storedIssuedAt;
    }

    function _record(ScoreAttestation calldata s, address scorer) private {
        bytes32 attestationHash = hashAttestation(s);
        _attestations[s.borrower] = Attestation({
            score: s.score,
            grade: s.grade,
            modelVersion: s.modelVersion,
            expiry: s.expiry,
            attestationHash: attestationHash,
            issuedAt: s.issuedAt
        });
        emit ScoreAttested(s.borrower, scorer, attestationHash, s.score, s.grade, s.modelVersion, s.issuedAt, s.expiry);
    }
}
