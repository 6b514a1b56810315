"""Wallet age and activity read from a real chain."""

from eth_account import Account

from onchain.wallet_activity import wallet_activity


def test_a_fresh_wallet_has_no_activity(chain):
    assert wallet_activity(chain.w3, Account.create().address) == (0, None)


def test_activity_counts_sent_transactions_and_dates_the_first(chain):
    # A wallet of its own: the dev accounts are shared with other chain tests.
    account = Account.create()
    key, address = account.key.to_0x_hex(), account.address
    chain.faucet(key, 1)  # gas money, then one faucet transaction
    first_block = chain.w3.eth.block_number
    for _ in range(3):
        chain.w3.provider.make_request("evm_mine", [])
    chain.faucet(key, 1)
    sent, first_seen = wallet_activity(chain.w3, address)
    assert sent == 2
    assert first_seen == chain.w3.eth.get_block(first_block)["timestamp"]
