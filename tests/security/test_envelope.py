"""Envelope encryption of objects: seal/open_ under every key-id form, tampering anywhere, key states, the
expected context, nothing in clear on disk, and restarts over the same files."""

from __future__ import annotations

import os

import pytest

from openrek.security.envelope import MAGIC, is_sealed, open_, seal, sealed_context, sealed_key_id
from openrek.security.kms_errors import KmsError
from openrek.security.kms_keys import KmsKeys
from tests.security.conftest import ACCOUNT, OTHER_ACCOUNT, REGION, KmsHarness

CONTEXT = {"bucket": "training", "key": "images/cat.jpg"}


def _key(kms: KmsKeys) -> dict:
    meta = kms.create_key(ACCOUNT, REGION)["KeyMetadata"]
    kms.create_alias(ACCOUNT, REGION, "alias/at-rest", meta["KeyId"])
    return meta


def _code(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(KmsError) as info:
        fn(*args, **kwargs)
    return info.value.code


def test_seal_and_open_with_every_key_form(kms: KmsKeys) -> None:
    meta = _key(kms)
    payload = os.urandom(3000)
    for form in (meta["KeyId"], meta["Arn"], "alias/at-rest", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/at-rest"):
        sealed = seal(kms, ACCOUNT, REGION, form, payload, CONTEXT)
        assert is_sealed(sealed) and sealed.startswith(MAGIC) and payload not in sealed
        assert open_(kms, ACCOUNT, sealed) == payload
        assert open_(kms, ACCOUNT, sealed, context=CONTEXT) == payload
        assert sealed_context(sealed) == CONTEXT and sealed_key_id(sealed) == meta["KeyId"]
    # Each seal uses its own data key and nonce.
    assert seal(kms, ACCOUNT, REGION, meta["KeyId"], payload) != seal(kms, ACCOUNT, REGION, meta["KeyId"], payload)


def test_sizes_empty_to_large(kms: KmsKeys) -> None:
    meta = _key(kms)
    for size in (0, 1, 4096, 4097, 5 * 1024 * 1024):
        payload = os.urandom(size)
        sealed = seal(kms, ACCOUNT, REGION, meta["KeyId"], payload)
        assert open_(kms, ACCOUNT, sealed) == payload
        assert len(sealed) - size < 200  # a small header


def test_is_sealed() -> None:
    assert not is_sealed(b"")
    assert not is_sealed(b"\xff\xd8\xff\xe0 a JPEG")
    assert not is_sealed(b'{"source-ref": "s3://b/k"}\n')
    assert not is_sealed(MAGIC)
    assert not is_sealed(MAGIC + b"\x02")
    assert is_sealed(MAGIC + b"\x01")


def test_tampering_anywhere_is_invalid_ciphertext(kms: KmsKeys) -> None:
    meta = _key(kms)
    sealed = seal(kms, ACCOUNT, REGION, meta["KeyId"], b"manifest line\n" * 4, CONTEXT)
    for i in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[i] ^= 0x04
        assert _code(open_, kms, ACCOUNT, bytes(tampered)) == "InvalidCiphertextException", i
    for cut in (len(sealed) - 1, len(sealed) - 16, 40, 9, 3):
        assert _code(open_, kms, ACCOUNT, sealed[:cut]) == "InvalidCiphertextException"
    assert _code(open_, kms, ACCOUNT, sealed + b"\x00") == "InvalidCiphertextException"
    assert _code(open_, kms, ACCOUNT, b"plain bytes, never sealed") == "InvalidCiphertextException"


def test_wrong_context_and_account(kms: KmsKeys) -> None:
    meta = _key(kms)
    sealed = seal(kms, ACCOUNT, REGION, meta["KeyId"], b"model weights", CONTEXT)
    assert _code(open_, kms, ACCOUNT, sealed, context={**CONTEXT, "key": "images/dog.jpg"}) == \
        "InvalidCiphertextException"
    assert _code(open_, kms, ACCOUNT, sealed, context={}) == "InvalidCiphertextException"
    assert _code(open_, kms, OTHER_ACCOUNT, sealed) == "InvalidCiphertextException"


def test_key_states_refuse_seal_and_open(kms: KmsKeys) -> None:
    meta = _key(kms)
    sealed = seal(kms, ACCOUNT, REGION, "alias/at-rest", b"output file")
    kms.disable_key(ACCOUNT, REGION, meta["KeyId"])
    assert _code(open_, kms, ACCOUNT, sealed) == "DisabledException"
    assert _code(seal, kms, ACCOUNT, REGION, meta["KeyId"], b"x") == "DisabledException"
    kms.schedule_key_deletion(ACCOUNT, REGION, meta["KeyId"], 7)
    assert _code(open_, kms, ACCOUNT, sealed) == "KMSInvalidStateException"
    assert _code(seal, kms, ACCOUNT, REGION, meta["KeyId"], b"x") == "KMSInvalidStateException"
    kms.cancel_key_deletion(ACCOUNT, REGION, meta["KeyId"])
    kms.enable_key(ACCOUNT, REGION, meta["KeyId"])
    assert open_(kms, ACCOUNT, sealed) == b"output file"
    assert _code(seal, kms, ACCOUNT, REGION, "alias/none", b"x") == "NotFoundException"


def test_sealed_objects_on_disk_hold_no_plaintext_and_survive_a_restart(harness: KmsHarness) -> None:
    kms = harness.start()
    meta = _key(kms)
    known = b"a known plaintext line of a training manifest, sealed at rest " * 50
    objects = harness.data_dir / "s3" / "training"
    objects.mkdir(parents=True)
    (objects / "train.manifest").write_bytes(seal(kms, ACCOUNT, REGION, "alias/at-rest", known, CONTEXT))
    harness.close()

    disk = b"".join(p.read_bytes() for p in harness.data_dir.rglob("*") if p.is_file())
    assert known[:48] not in disk

    again = harness.start()
    stored = (objects / "train.manifest").read_bytes()
    assert open_(again, ACCOUNT, stored, context=CONTEXT) == known
    assert sealed_key_id(stored) == meta["KeyId"]
