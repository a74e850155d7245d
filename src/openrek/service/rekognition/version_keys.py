"""The KMS key a Custom Labels version names in `KmsKeyId`, checked as AWS does at request time.

CreateProjectVersion and CopyProjectVersion resolve the key (key id, key ARN, alias name or alias ARN) in
the caller's account and region, refuse an unknown, disabled or pending-deletion key with
InvalidParameterException, and require the caller to be allowed the KMS actions Rekognition uses on the
key (kms:CreateGrant, kms:DescribeKey, kms:GenerateDataKey, kms:Decrypt), by the key policy and the
caller's IAM policies. The version's files are then sealed under the key (`openrek.store.sealed_files`).
StartProjectVersion, and CopyProjectVersion of the model, refuse a version whose key has since been disabled
or scheduled for deletion.
"""

from __future__ import annotations

from openrek.security.kms_errors import KmsError
from openrek.security.kms_keys import DISABLED, PENDING_DELETION, KeyRecord, KmsKeys
from openrek.service.context import RequestContext
from openrek.service.errors import InvalidParameterException
from openrek.service.kms import access

# What Rekognition does with the key for the caller (AWS's Custom Labels KMS permissions).
KMS_ACTIONS = ("kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt")
# Where the resolved key ARN is kept in a version's details (DescribeProjectVersions shows KmsKeyId as given).
DETAIL = "KmsKeyArn"


def resolve_for_request(keys: KmsKeys, ctx: RequestContext, key_id: str) -> str:
    """The ARN of the usable key `key_id` names, for a CreateProjectVersion or CopyProjectVersion."""
    try:
        record = keys.resolve_key(ctx.account, ctx.region, key_id)
    except KmsError:  # NotFoundException, InvalidArnException, ValidationException
        raise InvalidParameterException(
            f"The KMS key {key_id} does not exist in account {ctx.account}, region {ctx.region}. Give a key "
            "id, key ARN, alias name (alias/…) or alias ARN of an existing key (aws kms list-keys and aws kms "
            "list-aliases list yours), or leave out KmsKeyId.") from None
    for action in KMS_ACTIONS:
        access.check_key(ctx, action, record)
    _require_enabled(record, key_id, "be used for a model")
    return record.arn


def check_startable(keys: KmsKeys, key_arn: str, version_name: str) -> None:
    """InvalidParameterException if the version's key is now disabled, pending deletion or gone."""
    check_model_readable(keys, key_arn, version_name, "start")


def check_model_readable(keys: KmsKeys, key_arn: str, version_name: str, purpose: str) -> None:
    """InvalidParameterException unless the key that seals the model `version_name` can decrypt it now, for
    `purpose` ("start", "be copied")."""
    try:
        record = keys.key_by_arn(key_arn)
    except KmsError:
        raise InvalidParameterException(
            f"The model {version_name} cannot {purpose}: its KMS key {key_arn} no longer exists, so the model "
            "cannot be decrypted. Train or copy the model again with another KmsKeyId.") from None
    _require_enabled(record, key_arn, f"start the model {version_name}" if purpose == "start"
                     else f"decrypt the model {version_name} so that it can {purpose}")


def _require_enabled(record: KeyRecord, given: str, purpose: str) -> None:
    named = given if given == record.arn else f"{given} ({record.arn})"
    if record.state == DISABLED:
        raise InvalidParameterException(
            f"The KMS key {named} is disabled, so it cannot {purpose}. Enable it with EnableKey "
            f"(aws kms enable-key --key-id {record.key_id}) and try again.")
    if record.state == PENDING_DELETION:
        raise InvalidParameterException(
            f"The KMS key {named} is pending deletion, so it cannot {purpose}. Cancel the deletion with "
            f"CancelKeyDeletion (aws kms cancel-key-deletion --key-id {record.key_id}), which leaves the key "
            f"disabled, then enable it with EnableKey (aws kms enable-key --key-id {record.key_id}).")
