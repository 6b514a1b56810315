"""Wallet deep links, EIP-681 URIs and QR codes that really decode back."""

import io

import zxingcpp
from PIL import Image

from onchain import deeplinks

PAGE = "https://lendgram.example/s/Abc-123_x?lang=fa"


def decode(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_metamask_opens_the_page_in_its_browser():
    assert deeplinks.metamask_link(PAGE) == (
        "https://link.metamask.io/dapp/lendgram.example/s/Abc-123_x?lang=fa")


def test_trust_and_coinbase_carry_the_whole_url_encoded():
    links = deeplinks.wallet_links(PAGE)
    assert links["trust"].startswith("https://link.trustwallet.com/open_url?coin_id=60&url=")
    assert "https%3A%2F%2Flendgram.example%2Fs%2FAbc-123_x%3Flang%3Dfa" in links["trust"]
    assert links["coinbase"] == (
        "https://go.cb-w.com/dapp?cb_url=https%3A%2F%2Flendgram.example%2Fs%2FAbc-123_x%3Flang%3Dfa")
    assert all(link.startswith("https://") for link in links.values())


def test_an_eip681_uri_names_contract_chain_function_and_typed_arguments():
    uri = deeplinks.eip681_call(contract="0x" + "ab" * 20, chain_id=1440000, function="repay",
                                args=[("uint256", 7), ("uint256", 94_400_564)])
    assert uri == ("ethereum:0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB@1440000/repay"
                   "?uint256=7&uint256=94400564")


def test_qr_codes_decode_back_to_the_link():
    for data in (PAGE, deeplinks.metamask_link(PAGE),
                 deeplinks.eip681_call(contract="0x" + "cd" * 20, chain_id=31337,
                                       function="claim", args=[("uint256", 12)])):
        png = deeplinks.qr_png(data)
        assert png.startswith(b"\x89PNG")
        assert decode(png) == [data]
