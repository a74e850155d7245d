"""Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation."""

from __future__ import annotations

from starlette.responses import Response

from openrek.api.s3.context import S3Context
from openrek.api.s3.errors import S3Error
from openrek.api.s3.responses import empty_response, xml_response
from openrek.api.s3.xml_documents import add, add_owner, iso8601, root
from openrek.store.objects import ObjectStoreError, is_internal_bucket

REGION = "us-east-1"


async def list_buckets(ctx: S3Context) -> Response:
    buckets = await ctx.call(ctx.objects.list_buckets)
    prefix = ctx.query.get("prefix") or ""
    document = root("ListAllMyBucketsResult")
    add_owner(document)
    listed = add(document, "Buckets")
    for bucket in buckets:
        if not bucket.name.startswith(prefix):
            continue
        if ctx.account and (bucket.owner or ctx.default_owner) != ctx.account:
            continue  # another account's bucket
        entry = add(listed, "Bucket")
        add(entry, "Name", bucket.name)
        add(entry, "CreationDate", iso8601(bucket.created))
        add(entry, "BucketRegion", REGION)
    if prefix:
        add(document, "Prefix", prefix)
    return xml_response(document)


async def create_bucket(ctx: S3Context) -> Response:
    bucket = ctx.require_bucket_name()
    await ctx.small_body()  # a CreateBucketConfiguration (LocationConstraint) is accepted and ignored
    if is_internal_bucket(bucket):
        raise S3Error("InvalidBucketName", "Bucket names must not begin with a period.", bucket=bucket)
    try:
        await ctx.call(ctx.objects.create_bucket, bucket, ctx.account or None)
    except ObjectStoreError as exc:
        if exc.code == "BucketAlreadyOwnedByYou" and ctx.account and ctx.owner_of(bucket) != ctx.account:
            raise S3Error("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace "
                          "is shared by all users of the system. Please select a different name and try again.",
                          bucket=bucket) from None
        raise
    return empty_response(headers={"Location": f"/{bucket}"})


async def head_bucket(ctx: S3Context) -> Response:
    await ctx.existing_bucket()
    return empty_response(headers={"x-amz-bucket-region": REGION})


async def delete_bucket(ctx: S3Context) -> Response:
    await ctx.call(ctx.objects.delete_bucket, ctx.require_bucket_name())
    return empty_response(204)


async def get_bucket_location(ctx: S3Context) -> Response:
    await ctx.existing_bucket()
    # us-east-1 is reported as an empty LocationConstraint, as S3 does.
    return xml_response(root("LocationConstraint"))


async def put_bucket_policy(ctx: S3Context) -> Response:
    from openrek.security.policy_document import PolicyDocumentError, check_policy_document

    bucket = await ctx.existing_bucket()
    text = (await ctx.small_body()).decode("utf-8", "replace")
    try:
        check_policy_document(text)
    except PolicyDocumentError as exc:
        raise S3Error("MalformedPolicy", f"Policies must be valid JSON in the IAM grammar: {exc}",
                      bucket=bucket) from None
    await ctx.call(ctx.objects.set_bucket_policy, bucket, text)
    return empty_response(204)


async def get_bucket_policy(ctx: S3Context) -> Response:
    bucket = await ctx.existing_bucket()
    policy = await ctx.call(ctx.objects.bucket_policy, bucket)
    if policy is None:
        raise S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", bucket=bucket)
    return Response(policy.encode("utf-8"), media_type="application/json")


async def delete_bucket_policy(ctx: S3Context) -> Response:
    bucket = await ctx.existing_bucket()
    await ctx.call(ctx.objects.set_bucket_policy, bucket, None)
    return empty_response(204)
