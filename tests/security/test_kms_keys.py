"""KmsKeys on a real SQLite file and master key file: every operation with AWS's semantics and error codes,
the four key-id forms, key states refusing cryptography, tampering, nothing secret on disk, restarts."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import botocore.session
import pytest

from openrek.security import kms_errors
from openrek.security.kms_errors import KmsError
from openrek.security.kms_keys import KmsKeys, default_key_policy
from openrek.security.master_key import (
    ENV_KEY,
    ENV_KEY_FILE,
    MASTER_KEY_FILE,
    MasterKey,
    MasterKeyError,
    load_master_key,
)
from tests.security.conftest import ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, KmsHarness

KMS_MODEL = botocore.session.get_session().get_service_model("kms")


def code_of(exc: pytest.ExceptionInfo[KmsError]) -> str:
    return exc.value.code


def new_key(kms: KmsKeys, **kwargs: object) -> dict:
    return kms.create_key(ACCOUNT, REGION, **kwargs)["KeyMetadata"]  # type: ignore[arg-type]


def raises(code: str, fn, *args, **kwargs) -> KmsError:  # type: ignore[no-untyped-def]
    with pytest.raises(KmsError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, f"{info.value.code}: {info.value.message}"
    return info.value


# -- errors ---------------------------------------------------------------------------------------
def test_error_codes_are_the_models_error_shapes() -> None:
    model_errors = {shape.name for shape in KMS_MODEL.error_shapes}
    classes = [c for c in vars(kms_errors).values()
               if isinstance(c, type) and issubclass(c, KmsError) and c is not KmsError]
    assert len(classes) >= 20
    for cls in classes:
        assert cls.code == cls.__name__
        if cls.code not in ("ValidationException", "NotAuthorizedException"):
            assert cls.code in model_errors, cls.code


# -- CreateKey / DescribeKey ----------------------------------------------------------------------
def test_create_key_metadata_and_default_policy(kms: KmsKeys) -> None:
    meta = new_key(kms, description="images at rest")
    assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
    assert meta["AWSAccountId"] == ACCOUNT and meta["Description"] == "images at rest"
    assert meta["Arn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{meta['KeyId']}"
    assert (meta["KeyUsage"], meta["KeySpec"], meta["CustomerMasterKeySpec"]) == (
        "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT")
    assert meta["Origin"] == "AWS_KMS" and meta["KeyManager"] == "CUSTOMER"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert "DeletionDate" not in meta
    assert meta["CreationDate"].timestamp() == pytest.approx(kms._clock())
    # Every member is one the model's KeyMetadata shape has, with a value its enums allow.
    shape = KMS_MODEL.shape_for("KeyMetadata")
    for name, value in meta.items():
        member = shape.members[name]
        if member.metadata.get("enum"):
            assert value in member.metadata["enum"]
    record = kms.resolve_key(ACCOUNT, REGION, meta["KeyId"])
    assert record.policy == default_key_policy(ACCOUNT)
    assert json.loads(record.policy) == {
        "Version": "2012-10-17", "Id": "key-default-1",
        "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}],
    }
    assert '"Version" : "2012-10-17"' in record.policy  # AWS's own spacing


def test_create_key_with_policy_tags_and_refusals(kms: KmsKeys) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]})
    meta = new_key(kms, policy=policy, tags=[{"TagKey": "team", "TagValue": "vision"}])
    assert kms.resolve_key(ACCOUNT, REGION, meta["KeyId"]).policy == policy
    assert kms.metadata.get_tags(meta["Arn"]) == {"team": "vision"}
    raises("MalformedPolicyDocumentException", new_key, kms, policy="{not json")
    raises("MalformedPolicyDocumentException", new_key, kms, policy='{"Version": "2012-10-17"}')
    raises("UnsupportedOperationException", new_key, kms, key_spec="RSA_2048")
    raises("UnsupportedOperationException", new_key, kms, key_usage="SIGN_VERIFY")
    raises("UnsupportedOperationException", new_key, kms, origin="EXTERNAL")
    raises("UnsupportedOperationException", new_key, kms, multi_region=True)
    raises("ValidationException", new_key, kms, key_spec="SYMMETRIC_DEFAULT",
           customer_master_key_spec="SYMMETRIC_DEFAULT")
    raises("ValidationException", new_key, kms, description="x" * 8193)
    raises("TagException", new_key, kms, tags=[{"TagKey": "aws:x", "TagValue": "y"}])


def test_four_key_id_forms(kms: KmsKeys) -> None:
    meta = new_key(kms)
    kms.create_alias(ACCOUNT, REGION, "alias/images", meta["KeyId"])
    forms = [meta["KeyId"], meta["Arn"], "alias/images", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/images"]
    for form in forms:
        assert kms.resolve_key(ACCOUNT, REGION, form).key_id == meta["KeyId"]
        assert kms.describe_key(ACCOUNT, REGION, form)["KeyMetadata"]["Arn"] == meta["Arn"]
        blob = kms.encrypt(ACCOUNT, REGION, form, b"secret")["CiphertextBlob"]
        assert kms.decrypt(ACCOUNT, REGION, blob)["Plaintext"] == b"secret"


def test_resolution_errors(kms: KmsKeys) -> None:
    meta = new_key(kms)
    missing = "0b6c3f5e-4f44-4d7e-9f7a-0d1d2f3a4b5c"
    err = raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, missing)
    assert err.message == f"Key 'arn:aws:kms:{REGION}:{ACCOUNT}:key/{missing}' does not exist"
    assert raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, "nope").message == "Invalid keyId 'nope'"
    err = raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, "alias/none")
    assert err.message == f"Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/none is not found."
    raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/none")
    # Another account or region sees nothing, whatever the form.
    raises("NotFoundException", kms.describe_key, OTHER_ACCOUNT, REGION, meta["KeyId"])
    raises("NotFoundException", kms.describe_key, OTHER_ACCOUNT, REGION, meta["Arn"])
    raises("NotFoundException", kms.describe_key, ACCOUNT, OTHER_REGION, meta["KeyId"])
    raises("NotFoundException", kms.describe_key, ACCOUNT, OTHER_REGION, meta["Arn"])
    raises("InvalidArnException", kms.describe_key, ACCOUNT, REGION, "arn:aws:s3:::bucket")
    raises("InvalidArnException", kms.describe_key, ACCOUNT, REGION, f"arn:aws:kms:{REGION}:{ACCOUNT}:key")
    raises("ValidationException", kms.describe_key, ACCOUNT, REGION, "")


# -- ListKeys -------------------------------------------------------------------------------------
def test_list_keys_pages_and_is_per_account_and_region(kms: KmsKeys) -> None:
    ids = sorted(new_key(kms)["KeyId"] for _ in range(5))
    kms.create_key(OTHER_ACCOUNT, REGION)
    kms.create_key(ACCOUNT, OTHER_REGION)
    seen, marker, pages = [], None, 0
    while True:
        page = kms.list_keys(ACCOUNT, REGION, limit=2, marker=marker)
        pages += 1
        seen += [k["KeyId"] for k in page["Keys"]]
        assert all(k["KeyArn"].endswith(k["KeyId"]) for k in page["Keys"])
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert seen == ids and pages == 3
    assert [k["KeyId"] for k in kms.list_keys(ACCOUNT, REGION)["Keys"]] == ids
    raises("InvalidMarkerException", kms.list_keys, ACCOUNT, REGION, marker="garbage")
    raises("InvalidMarkerException", kms.list_keys, ACCOUNT, REGION,
           marker=kms.list_aliases(ACCOUNT, REGION, limit=1).get("NextMarker") or "YTp4")  # an alias marker
    raises("ValidationException", kms.list_keys, ACCOUNT, REGION, limit=0)
    raises("ValidationException", kms.list_keys, ACCOUNT, REGION, limit=1001)


# -- states ---------------------------------------------------------------------------------------
def _crypto_calls(kms: KmsKeys, key: str, blob: bytes) -> list:  # type: ignore[type-arg]
    return [
        lambda: kms.encrypt(ACCOUNT, REGION, key, b"x"),
        lambda: kms.decrypt(ACCOUNT, REGION, blob),
        lambda: kms.generate_data_key(ACCOUNT, REGION, key, key_spec="AES_256"),
        lambda: kms.generate_data_key_without_plaintext(ACCOUNT, REGION, key, number_of_bytes=16),
    ]


def test_disabled_key_refuses_cryptography(kms: KmsKeys) -> None:
    meta = new_key(kms)
    blob = kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"x")["CiphertextBlob"]
    assert kms.disable_key(ACCOUNT, REGION, meta["KeyId"]) == {}
    described = kms.describe_key(ACCOUNT, REGION, meta["KeyId"])["KeyMetadata"]
    assert (described["KeyState"], described["Enabled"]) == ("Disabled", False)
    kms.disable_key(ACCOUNT, REGION, meta["KeyId"])  # idempotent, as in AWS
    for call in _crypto_calls(kms, meta["KeyId"], blob):
        with pytest.raises(KmsError) as info:
            call()
        assert (info.value.code, info.value.message) == ("DisabledException", f"{meta['Arn']} is disabled.")
    kms.enable_key(ACCOUNT, REGION, meta["Arn"])
    for call in _crypto_calls(kms, meta["KeyId"], blob):
        call()


def test_schedule_and_cancel_deletion(kms: KmsKeys, harness: KmsHarness) -> None:
    meta = new_key(kms)
    blob = kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"x")["CiphertextBlob"]
    kms.create_alias(ACCOUNT, REGION, "alias/doomed", meta["KeyId"])
    for bad in (6, 31, 0):
        err = raises("ValidationException", kms.schedule_key_deletion, ACCOUNT, REGION, meta["KeyId"], bad)
        assert "pendingWindowInDays" in err.message
    out = kms.schedule_key_deletion(ACCOUNT, REGION, "alias/doomed", 7)
    assert out["KeyId"] == meta["Arn"] and out["KeyState"] == "PendingDeletion"
    assert out["PendingWindowInDays"] == 7
    assert out["DeletionDate"].timestamp() == pytest.approx(harness.clock.now + 7 * 86_400)
    described = kms.describe_key(ACCOUNT, REGION, meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion" and described["Enabled"] is False
    assert described["DeletionDate"] == out["DeletionDate"] and described["PendingDeletionWindowInDays"] == 7
    pending = f"{meta['Arn']} is pending deletion."
    for call in _crypto_calls(kms, meta["KeyId"], blob):
        with pytest.raises(KmsError) as info:
            call()
        assert (info.value.code, info.value.message) == ("KMSInvalidStateException", pending)
    for op in (kms.enable_key, kms.disable_key, kms.schedule_key_deletion):
        raises("KMSInvalidStateException", op, ACCOUNT, REGION, meta["KeyId"])
    raises("KMSInvalidStateException", kms.create_alias, ACCOUNT, REGION, "alias/late", meta["KeyId"])
    raises("KMSInvalidStateException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"],
           f"arn:aws:iam::{ACCOUNT}:role/r", ["Decrypt"])
    # Cancelling leaves the key Disabled (AWS does the same); EnableKey brings it back.
    assert kms.cancel_key_deletion(ACCOUNT, REGION, meta["KeyId"]) == {"KeyId": meta["Arn"]}
    described = kms.describe_key(ACCOUNT, REGION, meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Disabled" and "DeletionDate" not in described
    raises("KMSInvalidStateException", kms.cancel_key_deletion, ACCOUNT, REGION, meta["KeyId"])
    kms.enable_key(ACCOUNT, REGION, meta["KeyId"])
    assert kms.decrypt(ACCOUNT, REGION, blob)["Plaintext"] == b"x"


def test_deletion_date_deletes_the_key_with_aliases_and_grants(kms: KmsKeys, harness: KmsHarness) -> None:
    doomed, kept = new_key(kms), new_key(kms)
    kms.create_alias(ACCOUNT, REGION, "alias/doomed", doomed["KeyId"])
    kms.create_grant(ACCOUNT, REGION, doomed["KeyId"], f"arn:aws:iam::{ACCOUNT}:role/r", ["Decrypt"])
    out = kms.schedule_key_deletion(ACCOUNT, REGION, doomed["KeyId"])
    assert out["PendingWindowInDays"] == 30
    harness.clock.advance_days(29.9)
    assert kms.describe_key(ACCOUNT, REGION, doomed["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    harness.clock.advance_days(0.2)
    raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, doomed["KeyId"])
    raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, "alias/doomed")
    assert [k["KeyId"] for k in kms.list_keys(ACCOUNT, REGION)["Keys"]] == [kept["KeyId"]]
    assert kms.list_aliases(ACCOUNT, REGION)["Aliases"] == []
    assert kms.metadata.list_kms_grants(doomed["KeyId"], None, None, None, 10) == []
    raises("NotFoundException", kms.cancel_key_deletion, ACCOUNT, REGION, doomed["KeyId"])


def test_state_operations_on_missing_keys(kms: KmsKeys) -> None:
    missing = "0b6c3f5e-4f44-4d7e-9f7a-0d1d2f3a4b5c"
    for op in (kms.enable_key, kms.disable_key, kms.schedule_key_deletion, kms.cancel_key_deletion):
        raises("NotFoundException", op, ACCOUNT, REGION, missing)


# -- aliases --------------------------------------------------------------------------------------
def test_aliases(kms: KmsKeys, harness: KmsHarness) -> None:
    a, b = new_key(kms), new_key(kms)
    assert kms.create_alias(ACCOUNT, REGION, "alias/a-one", a["KeyId"]) == {}
    kms.create_alias(ACCOUNT, REGION, "alias/team/b_two", b["Arn"])
    kms.create_alias(ACCOUNT, REGION, "alias/a-two", a["Arn"])
    kms.create_alias(OTHER_ACCOUNT, REGION, "alias/a-one", kms.create_key(OTHER_ACCOUNT, REGION)
                     ["KeyMetadata"]["KeyId"])  # aliases are per account
    listed = kms.list_aliases(ACCOUNT, REGION)
    assert [x["AliasName"] for x in listed["Aliases"]] == ["alias/a-one", "alias/a-two", "alias/team/b_two"]
    first = listed["Aliases"][0]
    assert first["AliasArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/a-one"
    assert first["TargetKeyId"] == a["KeyId"]
    assert first["CreationDate"].timestamp() == pytest.approx(harness.clock.now)
    assert first["LastUpdatedDate"] == first["CreationDate"]
    assert listed["Truncated"] is False
    assert [x["AliasName"] for x in kms.list_aliases(ACCOUNT, REGION, key_id=a["Arn"])["Aliases"]] == [
        "alias/a-one", "alias/a-two"]
    page = kms.list_aliases(ACCOUNT, REGION, limit=2)
    assert page["Truncated"] is True and len(page["Aliases"]) == 2
    rest = kms.list_aliases(ACCOUNT, REGION, limit=2, marker=page["NextMarker"])
    assert [x["AliasName"] for x in rest["Aliases"]] == ["alias/team/b_two"] and rest["Truncated"] is False
    raises("NotFoundException", kms.list_aliases, ACCOUNT, REGION, key_id="0b6c3f5e-4f44-4d7e-9f7a-0d1d2f3a4b5c")
    raises("ValidationException", kms.list_aliases, ACCOUNT, REGION, limit=101)

    err = raises("AlreadyExistsException", kms.create_alias, ACCOUNT, REGION, "alias/a-one", b["KeyId"])
    assert err.message == f"An alias with the name arn:aws:kms:{REGION}:{ACCOUNT}:alias/a-one already exists"
    err = raises("ValidationException", kms.create_alias, ACCOUNT, REGION, "images", a["KeyId"])
    assert err.message.startswith('Alias must start with the prefix "alias/".')
    raises("NotAuthorizedException", kms.create_alias, ACCOUNT, REGION, "alias/aws/s3", a["KeyId"])
    raises("NotAuthorizedException", kms.delete_alias, ACCOUNT, REGION, "alias/aws/s3")
    raises("InvalidAliasNameException", kms.create_alias, ACCOUNT, REGION, "alias/", a["KeyId"])
    raises("InvalidAliasNameException", kms.create_alias, ACCOUNT, REGION, "alias/a:b", a["KeyId"])
    raises("ValidationException", kms.create_alias, ACCOUNT, REGION, "alias/with space", a["KeyId"])
    raises("ValidationException", kms.create_alias, ACCOUNT, REGION, "alias/" + "x" * 251, a["KeyId"])
    raises("ValidationException", kms.create_alias, ACCOUNT, REGION, "alias/x", "alias/a-one")
    raises("NotFoundException", kms.create_alias, ACCOUNT, REGION, "alias/x",
           "0b6c3f5e-4f44-4d7e-9f7a-0d1d2f3a4b5c")
    kms.disable_key(ACCOUNT, REGION, b["KeyId"])
    kms.create_alias(ACCOUNT, REGION, "alias/to-disabled", b["KeyId"])  # allowed on a Disabled key

    assert kms.delete_alias(ACCOUNT, REGION, "alias/a-one") == {}
    raises("NotFoundException", kms.describe_key, ACCOUNT, REGION, "alias/a-one")
    err = raises("NotFoundException", kms.delete_alias, ACCOUNT, REGION, "alias/a-one")
    assert err.message == f"Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/a-one is not found."
    assert kms.describe_key(OTHER_ACCOUNT, REGION, "alias/a-one")  # the other account's is untouched


# -- Encrypt / Decrypt ----------------------------------------------------------------------------
def test_encrypt_decrypt_roundtrip_and_context(kms: KmsKeys) -> None:
    meta = new_key(kms)
    context = {"bucket": "images", "key": "cat.jpg"}
    out = kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"hello", encryption_context=context)
    assert out["KeyId"] == meta["Arn"] and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = out["CiphertextBlob"]
    assert b"hello" not in blob and meta["KeyId"].encode() not in blob  # the id travels as 16 raw bytes
    back = kms.decrypt(ACCOUNT, REGION, blob, encryption_context=dict(reversed(context.items())))
    assert back == {"KeyId": meta["Arn"], "Plaintext": b"hello", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert kms.decrypt(ACCOUNT, None, blob, encryption_context=context)["Plaintext"] == b"hello"
    for wrong in (None, {}, {"bucket": "images"}, {**context, "key": "dog.jpg"}, {**context, "x": "y"}):
        raises("InvalidCiphertextException", kms.decrypt, ACCOUNT, REGION, blob, encryption_context=wrong)
    # Two encryptions of the same plaintext differ (fresh nonce).
    assert kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"hello")["CiphertextBlob"] != blob


def test_decrypt_with_key_id_and_foreign_ciphertexts(kms: KmsKeys) -> None:
    a, b = new_key(kms), new_key(kms)
    kms.create_alias(ACCOUNT, REGION, "alias/a", a["KeyId"])
    blob = kms.encrypt(ACCOUNT, REGION, a["KeyId"], b"data")["CiphertextBlob"]
    for form in (a["KeyId"], a["Arn"], "alias/a", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/a"):
        assert kms.decrypt(ACCOUNT, REGION, blob, key_id=form)["Plaintext"] == b"data"
    assert kms.decrypt(ACCOUNT, None, blob, key_id=a["Arn"])["Plaintext"] == b"data"
    raises("IncorrectKeyException", kms.decrypt, ACCOUNT, REGION, blob, key_id=b["KeyId"])
    raises("NotFoundException", kms.decrypt, ACCOUNT, REGION, blob, key_id="alias/none")
    raises("InvalidCiphertextException", kms.decrypt, OTHER_ACCOUNT, REGION, blob)
    raises("InvalidCiphertextException", kms.decrypt, ACCOUNT, OTHER_REGION, blob)


def test_tampered_ciphertext_is_invalid(kms: KmsKeys) -> None:
    meta = new_key(kms)
    other = new_key(kms)
    blob = kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"0123456789abcdef", {"k": "v"})["CiphertextBlob"]
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(KmsError) as info:
            kms.decrypt(ACCOUNT, REGION, bytes(tampered), {"k": "v"})
        assert info.value.code == "InvalidCiphertextException", i
    for bad in (blob[:-1], blob[:20], b"\x00" * 60, blob + b"x"):
        raises("InvalidCiphertextException", kms.decrypt, ACCOUNT, REGION, bad, {"k": "v"})
    # Pointing the blob at another key of the account does not help either.
    swapped = blob[:1] + bytes.fromhex(other["KeyId"].replace("-", "")) + blob[17:]
    raises("InvalidCiphertextException", kms.decrypt, ACCOUNT, REGION, swapped, {"k": "v"})


def test_encrypt_decrypt_input_errors(kms: KmsKeys) -> None:
    meta = new_key(kms)
    raises("ValidationException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"")
    raises("ValidationException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"x" * 4097)
    kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"x" * 4096)
    raises("ValidationException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], "text")
    raises("ValidationException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"x", {"k": 1})
    raises("InvalidKeyUsageException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"x",
           encryption_algorithm="RSAES_OAEP_SHA_256")
    raises("ValidationException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"x", encryption_algorithm="ROT13")
    raises("DryRunOperationException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"x", dry_run=True)
    raises("NotFoundException", kms.encrypt, ACCOUNT, REGION, "alias/none", b"x")
    raises("ValidationException", kms.decrypt, ACCOUNT, REGION, b"")
    raises("ValidationException", kms.decrypt, ACCOUNT, REGION, b"x" * 6145)


# -- data keys ------------------------------------------------------------------------------------
def test_generate_data_key(kms: KmsKeys) -> None:
    meta = new_key(kms)
    kms.create_alias(ACCOUNT, REGION, "alias/dk", meta["KeyId"])
    for kwargs, size in (({"key_spec": "AES_256"}, 32), ({"key_spec": "AES_128"}, 16),
                         ({"number_of_bytes": 1}, 1), ({"number_of_bytes": 1024}, 1024)):
        out = kms.generate_data_key(ACCOUNT, REGION, "alias/dk", encryption_context={"p": "q"}, **kwargs)
        assert out["KeyId"] == meta["Arn"] and len(out["Plaintext"]) == size
        assert kms.decrypt(ACCOUNT, REGION, out["CiphertextBlob"], {"p": "q"})["Plaintext"] == out["Plaintext"]
        raises("InvalidCiphertextException", kms.decrypt, ACCOUNT, REGION, out["CiphertextBlob"])
    bare = kms.generate_data_key_without_plaintext(ACCOUNT, REGION, meta["Arn"], key_spec="AES_256")
    assert set(bare) == {"CiphertextBlob", "KeyId"}
    assert len(kms.decrypt(ACCOUNT, REGION, bare["CiphertextBlob"])["Plaintext"]) == 32
    err = raises("ValidationException", kms.generate_data_key, ACCOUNT, REGION, meta["KeyId"])
    assert err.message == "Please specify either number of bytes or key spec."
    raises("ValidationException", kms.generate_data_key, ACCOUNT, REGION, meta["KeyId"], key_spec="AES_256",
           number_of_bytes=32)
    raises("ValidationException", kms.generate_data_key, ACCOUNT, REGION, meta["KeyId"], key_spec="AES_512")
    raises("ValidationException", kms.generate_data_key, ACCOUNT, REGION, meta["KeyId"], number_of_bytes=0)
    raises("ValidationException", kms.generate_data_key, ACCOUNT, REGION, meta["KeyId"], number_of_bytes=1025)
    raises("DryRunOperationException", kms.generate_data_key, ACCOUNT, REGION, meta["KeyId"],
           key_spec="AES_256", dry_run=True)


# -- grants ---------------------------------------------------------------------------------------
GRANTEE = f"arn:aws:iam::{ACCOUNT}:role/trainer"
RETIREE = f"arn:aws:iam::{ACCOUNT}:role/admin"


def test_grants_create_list_retire_revoke(kms: KmsKeys, harness: KmsHarness) -> None:
    meta = new_key(kms)
    created = kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Encrypt", "Decrypt"],
                               retiring_principal=RETIREE,
                               constraints={"EncryptionContextSubset": {"project": "p1"}}, name="trainer")
    assert len(created["GrantId"]) == 64 and created["GrantToken"]
    other = kms.create_grant(ACCOUNT, REGION, meta["Arn"], RETIREE, ["DescribeKey"])
    listed = kms.list_grants(ACCOUNT, REGION, meta["KeyId"])
    assert listed["Truncated"] is False and len(listed["Grants"]) == 2
    entry = next(g for g in listed["Grants"] if g["GrantId"] == created["GrantId"])
    assert entry == {
        "KeyId": meta["Arn"], "GrantId": created["GrantId"], "Name": "trainer",
        "CreationDate": entry["CreationDate"], "GranteePrincipal": GRANTEE, "RetiringPrincipal": RETIREE,
        "IssuingAccount": f"arn:aws:iam::{ACCOUNT}:root", "Operations": ["Decrypt", "Encrypt"],
        "Constraints": {"EncryptionContextSubset": {"project": "p1"}},
    }
    assert entry["CreationDate"].timestamp() == pytest.approx(harness.clock.now)
    by_grantee = kms.list_grants(ACCOUNT, REGION, meta["KeyId"], grantee_principal=RETIREE)["Grants"]
    assert [g["GrantId"] for g in by_grantee] == [other["GrantId"]]
    by_id = kms.list_grants(ACCOUNT, REGION, meta["KeyId"], grant_id=created["GrantId"])["Grants"]
    assert [g["GrantId"] for g in by_id] == [created["GrantId"]]
    page = kms.list_grants(ACCOUNT, REGION, meta["KeyId"], limit=1)
    rest = kms.list_grants(ACCOUNT, REGION, meta["KeyId"], limit=1, marker=page["NextMarker"])
    assert page["Truncated"] is True and rest["Truncated"] is False
    assert {page["Grants"][0]["GrantId"], rest["Grants"][0]["GrantId"]} == {created["GrantId"], other["GrantId"]}

    # A grant token is usable at once with the cryptographic operations.
    kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"x", grant_tokens=[created["GrantToken"]])
    raises("InvalidGrantTokenException", kms.encrypt, ACCOUNT, REGION, meta["KeyId"], b"x", grant_tokens=["bogus"])

    assert kms.retire_grant(ACCOUNT, REGION, grant_token=created["GrantToken"]) == {}
    raises("NotFoundException", kms.retire_grant, ACCOUNT, REGION, grant_token=created["GrantToken"])
    assert kms.revoke_grant(ACCOUNT, REGION, meta["KeyId"], other["GrantId"]) == {}
    err = raises("NotFoundException", kms.revoke_grant, ACCOUNT, REGION, meta["KeyId"], other["GrantId"])
    assert other["GrantId"] in err.message
    assert kms.list_grants(ACCOUNT, REGION, meta["KeyId"])["Grants"] == []

    third = kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["GenerateDataKey"])
    raises("NotFoundException", kms.retire_grant, ACCOUNT, REGION, key_id=new_key(kms)["KeyId"],
           grant_id=third["GrantId"])
    kms.retire_grant(ACCOUNT, REGION, key_id=meta["Arn"], grant_id=third["GrantId"])
    assert kms.list_grants(ACCOUNT, REGION, meta["KeyId"])["Grants"] == []


def test_grant_name_makes_retries_idempotent(kms: KmsKeys) -> None:
    meta = new_key(kms)
    first = kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"], name="retry-me")
    again = kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"], name="retry-me")
    assert again["GrantId"] == first["GrantId"] and again["GrantToken"] != first["GrantToken"]
    changed = kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Encrypt"], name="retry-me")
    unnamed = [kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"]) for _ in range(2)]
    assert len({changed["GrantId"], first["GrantId"], *(g["GrantId"] for g in unnamed)}) == 4
    # Both tokens of the same grant retire it.
    kms.retire_grant(ACCOUNT, REGION, grant_token=again["GrantToken"])
    raises("NotFoundException", kms.retire_grant, ACCOUNT, REGION, grant_token=first["GrantToken"])


def test_grant_errors(kms: KmsKeys) -> None:
    meta = new_key(kms)
    raises("ValidationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], GRANTEE, [])
    raises("ValidationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Fly"])
    err = raises("ValidationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Sign"])
    assert "Sign" in err.message
    raises("ValidationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], "bad principal", ["Decrypt"])
    raises("ValidationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"],
           constraints={"Bogus": {}})
    raises("ValidationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"],
           name="bad name")
    raises("DryRunOperationException", kms.create_grant, ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"],
           dry_run=True)
    raises("NotFoundException", kms.create_grant, ACCOUNT, REGION, "alias/none", GRANTEE, ["Decrypt"])
    kms.disable_key(ACCOUNT, REGION, meta["KeyId"])
    kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"])  # allowed on a Disabled key
    raises("InvalidGrantIdException", kms.revoke_grant, ACCOUNT, REGION, meta["KeyId"], "not-a-grant")
    raises("InvalidGrantIdException", kms.list_grants, ACCOUNT, REGION, meta["KeyId"], grant_id="zz")
    raises("NotFoundException", kms.revoke_grant, ACCOUNT, REGION, meta["KeyId"], "ab" * 32)
    raises("InvalidGrantTokenException", kms.retire_grant, ACCOUNT, REGION, grant_token="Zm9v")
    forged = base64.urlsafe_b64encode(b"\x01" + b"\x00" * 80).decode().rstrip("=")
    raises("InvalidGrantTokenException", kms.retire_grant, ACCOUNT, REGION, grant_token=forged)
    raises("ValidationException", kms.retire_grant, ACCOUNT, REGION)
    raises("ValidationException", kms.retire_grant, ACCOUNT, REGION, grant_id="ab" * 32)
    raises("InvalidMarkerException", kms.list_grants, ACCOUNT, REGION, meta["KeyId"], marker="nope")


# -- master key -----------------------------------------------------------------------------------
def test_master_key_file_is_generated_once_with_mode_0600(harness: KmsHarness) -> None:
    first = load_master_key(harness.data_dir, env={})
    path = harness.data_dir / MASTER_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_bytes())) == 32
    assert not [p for p in harness.data_dir.iterdir() if p.name.endswith(".tmp")]
    second = load_master_key(harness.data_dir, env={})
    blob = first.wrap("k1", b"m" * 32)
    assert second.unwrap("k1", blob) == b"m" * 32
    assert path.read_bytes().decode().strip() not in repr(first)


def test_master_key_from_environment_and_file(tmp_path: Path) -> None:
    raw = os.urandom(32)
    from_env = load_master_key(tmp_path / "a", env={ENV_KEY: base64.b64encode(raw).decode()})
    assert from_env.source == ENV_KEY and not (tmp_path / "a" / MASTER_KEY_FILE).exists()
    key_file = tmp_path / "elsewhere.key"
    key_file.write_text(base64.b64encode(raw).decode() + "\n")
    from_file = load_master_key(tmp_path / "b", env={ENV_KEY_FILE: str(key_file)})
    assert from_file.unwrap("id", from_env.wrap("id", b"material")) == b"material"
    key_file.write_bytes(raw)  # raw bytes work too
    assert load_master_key(tmp_path / "b", env={ENV_KEY_FILE: str(key_file)}).unwrap(
        "id", from_env.wrap("id", b"material")) == b"material"
    with pytest.raises(MasterKeyError) as info:
        load_master_key(tmp_path, env={ENV_KEY: "c2hvcnQ="})
    assert "c2hvcnQ" not in str(info.value) and "openssl rand -base64 32" in str(info.value)
    with pytest.raises(MasterKeyError):
        load_master_key(tmp_path, env={ENV_KEY_FILE: str(tmp_path / "missing.key")})


def test_wrapped_material_is_bound_to_its_key_id() -> None:
    master = MasterKey(os.urandom(32))
    blob = master.wrap("key-a", b"material")
    with pytest.raises(MasterKeyError):
        master.unwrap("key-b", blob)
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(MasterKeyError):
        master.unwrap("key-a", bytes(tampered))
    with pytest.raises(MasterKeyError):
        MasterKey(os.urandom(32)).unwrap("key-a", blob)


def test_another_master_key_cannot_use_the_keys(harness: KmsHarness) -> None:
    kms = harness.start()
    meta = new_key(kms)
    blob = kms.encrypt(ACCOUNT, REGION, meta["KeyId"], b"x")["CiphertextBlob"]
    stranger = harness.start(env={ENV_KEY: base64.b64encode(os.urandom(32)).decode()})
    err = raises("KMSInternalException", stranger.decrypt, ACCOUNT, REGION, blob)
    assert "master key" in err.message and err.status == 500


# -- on disk, and across restarts -----------------------------------------------------------------
def _disk_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def test_no_key_material_in_clear_on_disk(harness: KmsHarness) -> None:
    kms = harness.start()
    secrets_to_find: list[bytes] = []
    for _ in range(3):
        meta = new_key(kms)
        kms.create_alias(ACCOUNT, REGION, f"alias/k{len(secrets_to_find)}", meta["KeyId"])
        row = kms.metadata.get_kms_key(meta["KeyId"])
        secrets_to_find.append(kms.master_key.unwrap(meta["KeyId"], row.wrapped_material))
        data_key = kms.generate_data_key(ACCOUNT, REGION, meta["KeyId"], key_spec="AES_256")
        secrets_to_find.append(data_key["Plaintext"])
        known = b"known plaintext that must never reach the disk " + meta["KeyId"].encode()
        blob = kms.encrypt(ACCOUNT, REGION, meta["KeyId"], known)["CiphertextBlob"]
        (harness.data_dir / f"{meta['KeyId']}.bin").write_bytes(blob)  # ciphertexts may be stored
        secrets_to_find.append(known)
    kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"])
    files = {p.name for p in harness.data_dir.iterdir()}
    assert {"openrek.db", MASTER_KEY_FILE} <= files
    disk = _disk_bytes(harness.data_dir)
    assert harness.db_path.stat().st_size > 0 and len(disk) > 4096
    for secret in secrets_to_find:
        for form in (secret, base64.b64encode(secret), secret.hex().encode()):
            assert form not in disk
    harness.close()  # after a checkpoint the main file holds everything; scan it again
    disk = _disk_bytes(harness.data_dir)
    for secret in secrets_to_find:
        assert secret not in disk


def test_restart_decrypts_what_the_previous_process_encrypted(harness: KmsHarness) -> None:
    kms = harness.start()
    meta = new_key(kms)
    kms.create_alias(ACCOUNT, REGION, "alias/durable", meta["KeyId"])
    blob = kms.encrypt(ACCOUNT, REGION, "alias/durable", b"persist me", {"c": "d"})["CiphertextBlob"]
    data_key = kms.generate_data_key(ACCOUNT, REGION, meta["KeyId"], key_spec="AES_256")
    grant = kms.create_grant(ACCOUNT, REGION, meta["KeyId"], GRANTEE, ["Decrypt"])
    harness.close()
    again = harness.start()
    assert again is not kms
    assert again.decrypt(ACCOUNT, REGION, blob, {"c": "d"})["Plaintext"] == b"persist me"
    assert again.decrypt(ACCOUNT, REGION, data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    assert again.describe_key(ACCOUNT, REGION, "alias/durable")["KeyMetadata"]["KeyId"] == meta["KeyId"]
    again.retire_grant(ACCOUNT, REGION, grant_token=grant["GrantToken"])  # tokens survive restarts


def test_migration_0004_follows_0003(harness: KmsHarness) -> None:
    from openrek.store.database import MIGRATIONS_DIR

    text = (MIGRATIONS_DIR / "versions" / "0004_kms_keys.py").read_text()
    assert 'revision = "0004"' in text and 'down_revision = "0003"' in text
    kms = harness.start()
    with kms.metadata.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() >= "0004"  # or later
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"kms_keys", "kms_aliases", "kms_grants"} <= tables
