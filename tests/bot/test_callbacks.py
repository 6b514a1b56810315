"""Button data: small, versioned, and naming things only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import callbacks

tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-",
                 min_size=1, max_size=12)


@given(kind=tokens, args=st.lists(tokens, max_size=4))
def test_what_the_bot_encodes_decodes_to_the_same_button_and_fits_64_bytes(kind, args):
    try:
        data = callbacks.encode(kind, *args)
    except callbacks.CallbackDataError:
        assert len("|".join(["1", kind, *args]).encode()) > 64
        return
    assert len(data.encode()) <= 64
    assert callbacks.decode(data) == callbacks.Button(kind=kind, args=tuple(args))


def test_it_refuses_to_build_data_longer_than_telegram_allows():
    with pytest.raises(callbacks.CallbackDataError):
        callbacks.encode("calc", "x" * 40, "y" * 30)


def test_it_refuses_separators_inside_a_part():
    with pytest.raises(callbacks.CallbackDataError):
        callbacks.encode("lang", "es|admin")


@pytest.mark.parametrize("data", [None, "", "garbage", "0|lang|es", "2|lang|es", "1",
                                  "1||", "1|lang|" + "x" * 80, "1|lang|é"])
def test_data_of_another_version_or_shape_decodes_to_nothing(data):
    assert callbacks.decode(data) is None


@given(st.text(max_size=80))
def test_decoding_anything_never_raises(data):
    callbacks.decode(data)
