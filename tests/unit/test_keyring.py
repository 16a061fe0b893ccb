"""The keyring: authenticated encryption, key ids, rotation, the generated key file."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.keyring import Keyring, KeyringError, load_keyring, new_key_entry

OLD = "k1:" + "A" * 43  # fixed keys: xdist workers must collect the same test ids
NEW = new_key_entry("k2")


def test_a_secret_round_trips_and_names_its_key() -> None:
    keyring = Keyring.parse(OLD)
    sealed = keyring.encrypt("whsec_abc", "webhook-endpoint:t1")
    assert sealed.startswith("enc1:k1:")
    assert "whsec_abc" not in sealed
    assert keyring.decrypt(sealed, "webhook-endpoint:t1") == "whsec_abc"


def test_the_same_secret_never_encrypts_to_the_same_text() -> None:
    keyring = Keyring.parse(OLD)
    assert keyring.encrypt("s", "c") != keyring.encrypt("s", "c")


def test_a_value_copied_to_another_owner_does_not_decrypt() -> None:
    keyring = Keyring.parse(OLD)
    sealed = keyring.encrypt("whsec_abc", "webhook-endpoint:tenant-a")
    with pytest.raises(KeyringError):
        keyring.decrypt(sealed, "webhook-endpoint:tenant-b")


def test_after_rotation_old_values_decrypt_and_new_ones_use_the_new_key() -> None:
    sealed_before = Keyring.parse(OLD).encrypt("totp-secret", "totp:u1")
    rotated = Keyring.parse(f"{NEW},{OLD}")
    assert rotated.decrypt(sealed_before, "totp:u1") == "totp-secret"
    assert not rotated.is_current(sealed_before)
    assert rotated.encrypt("x", "c").startswith("enc1:k2:")
    with pytest.raises(KeyringError, match="k1"):
        Keyring.parse(NEW).decrypt(sealed_before, "totp:u1")


@pytest.mark.parametrize(
    "value", ["", "nokeyid", "k1:short", f"{OLD},{OLD}", "k1:" + "!" * 43, ":" + OLD[3:]]
)
def test_a_malformed_secret_key_is_refused(value: str) -> None:
    with pytest.raises(KeyringError):
        Keyring.parse(value)


def test_without_a_configured_key_one_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_keyring(None, tmp_path)
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    sealed = first.encrypt("s", "c")
    assert load_keyring(None, tmp_path).decrypt(sealed, "c") == "s"
    assert load_keyring(NEW, tmp_path).current == "k2"  # configuration wins over the file
