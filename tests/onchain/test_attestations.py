"""Score attestations: our EIP-712 digest and signatures equal eth-account's and the contract's,
and a batch posted through the serial sender lands in a real ScoreRegistry on anvil."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from onchain import deploy as deployment
from onchain.attestations import (
    AttestationError,
    AttestationSigner,
    RegistryDomain,
    ScoreAttestation,
    ScoreRegistryClient,
    attestation_digest,
    recover_scorer,
    typed_data,
    verify_attestation,
)
from onchain.devchain import DevChain
from onchain.nonces import FileNonceStore, SerialSender

SCORER = deployment.DEV["scorer"]
OTHER = deployment.DEV["treasury"]
DOMAIN = RegistryDomain(chain_id=31337, verifying_contract="0x" + "ab" * 20)
BORROWER = "0x" + "12" * 20


def attestation(**changes) -> ScoreAttestation:
    fields = {"borrower": BORROWER, "score": 712, "grade": 2, "model_version": 1,
              "issued_at": 1_800_000_000, "expiry": 1_802_592_000}
    return ScoreAttestation(**{**fields, **changes})


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chain")
    with DevChain.start() as dev:
        entry = deployment.deploy(dev.rpc_url, addresses_file=folder / "addresses.json",
                                  abi_dir=folder / "abi")
        w3 = Web3(Web3.HTTPProvider(dev.rpc_url))
        yield w3, ScoreRegistryClient(w3, entry["ScoreRegistry"]), folder


def test_the_dev_scorer_key_is_anvil_account_2():
    Account.enable_unaudited_hdwallet_features()
    derived = Account.from_mnemonic("test test test test test test test test test test test junk",
                                    account_path="m/44'/60'/0'/0/2")
    assert derived.address == SCORER.address
    assert derived.key.to_0x_hex() == SCORER.private_key


def test_the_fast_digest_equals_eth_accounts_eip712_hash():
    signable = encode_typed_data(full_message=typed_data(attestation(), DOMAIN))
    expected = Web3.keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert attestation_digest(attestation(), DOMAIN) == bytes(expected)


def test_the_fast_signature_equals_sign_typed_data():
    signer = AttestationSigner(private_key=SCORER.private_key, domain=DOMAIN)
    signed = signer.sign(attestation())
    reference = Account.sign_typed_data(SCORER.private_key,
                                        full_message=typed_data(attestation(), DOMAIN))
    assert signed.signature == bytes(reference.signature)
    assert recover_scorer(attestation(), DOMAIN, signed.signature) == SCORER.address


def test_it_refuses_a_tampered_attestation_another_registry_or_another_signer():
    signed = AttestationSigner(private_key=SCORER.private_key, domain=DOMAIN).sign(attestation())
    assert verify_attestation(attestation(), DOMAIN, signed.signature, scorer=SCORER.address)
    assert not verify_attestation(attestation(score=713), DOMAIN, signed.signature,
                                  scorer=SCORER.address)
    other_chain = RegistryDomain(chain_id=1449000, verifying_contract=DOMAIN.verifying_contract)
    assert not verify_attestation(attestation(), other_chain, signed.signature,
                                  scorer=SCORER.address)
    forged = AttestationSigner(private_key=OTHER.private_key, domain=DOMAIN).sign(attestation())
    assert not verify_attestation(attestation(), DOMAIN, forged.signature, scorer=SCORER.address)
    assert not verify_attestation(attestation(), DOMAIN, b"\x00" * 65, scorer=SCORER.address)


@pytest.mark.parametrize("changes", [{"score": 2**16}, {"grade": 0}, {"grade": 6},
                                     {"expiry": -1}, {"borrower": "0x1234"}])
def test_fields_that_do_not_fit_the_contract_types_are_refused(changes):
    with pytest.raises((AttestationError, ValueError)):
        attestation(**changes)


def test_the_signer_never_shows_its_key():
    signer = AttestationSigner(private_key=SCORER.private_key, domain=DOMAIN)
    assert SCORER.private_key[2:] not in repr(signer)


def test_our_digest_is_the_registrys_own_hash(chain):
    w3, registry, _ = chain
    domain = RegistryDomain(chain_id=w3.eth.chain_id, verifying_contract=registry.address)
    assert registry.hash_attestation(attestation()) == attestation_digest(attestation(), domain)


def test_a_batch_posted_through_the_serial_sender_is_recorded(chain):
    w3, registry, folder = chain
    domain = RegistryDomain(chain_id=w3.eth.chain_id, verifying_contract=registry.address)
    now = w3.eth.get_block("latest")["timestamp"]
    batch = [attestation(borrower=f"0x{index + 1:040x}", score=600 + index, grade=3,
                         issued_at=now, expiry=now + 86_400) for index in range(3)]
    sender = SerialSender(w3=w3, private_key=SCORER.private_key,
                          store=FileNonceStore(directory=folder, chain_id=domain.chain_id,
                                               address=SCORER.address))
    receipt = sender.wait(sender.send(registry.post_batch_tx(batch)))
    assert receipt["status"] == 1
    stored = registry.attestation_of(batch[1].borrower)
    assert stored["score"] == 601
    assert stored["attestation_hash"] == attestation_digest(batch[1], domain)


def test_anyone_can_post_an_attestation_with_the_scorers_signature(chain):
    w3, registry, _ = chain
    domain = RegistryDomain(chain_id=w3.eth.chain_id, verifying_contract=registry.address)
    now = w3.eth.get_block("latest")["timestamp"]
    item = attestation(borrower="0x" + "34" * 20, issued_at=now, expiry=now + 3600)
    signed = AttestationSigner(private_key=SCORER.private_key, domain=domain).sign(item)
    relayer = w3.eth.accounts[5]
    tx_hash = registry.contract.functions.postSigned(item.as_tuple(), signed.signature).transact(
        {"from": relayer})
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert registry.attestation_of(item.borrower)["score"] == item.score
