"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads.
"""

from __future__ import annotations

from starlette.responses import Response

from openrek.api.s3 import encryption
from openrek.api.s3.checksums import checksum_header
from openrek.api.s3.context import S3Context
from openrek.api.s3.errors import S3Error, shown_value
from openrek.api.s3.numbers import decimal, query_integer
from openrek.api.s3.responses import empty_response, xml_response
from openrek.api.s3.xml_documents import add, add_owner, iso8601, parse_complete_multipart, root
from openrek.store.objects import MAX_PART_NUMBER

MAX_LISTED = 1000  # the most parts or uploads one listing returns, as in S3


def _upload_id(ctx: S3Context) -> str:
    upload_id = ctx.query.get("uploadId")
    if not upload_id:
        raise S3Error("InvalidArgument", "This operation needs an uploadId.", extra={"ArgumentName": "uploadId"})
    return upload_id


async def create_multipart_upload(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    await ctx.small_body()
    wanted = await ctx.call(encryption.requested, ctx.headers, ctx.kms, ctx.caller_or_owner())
    if wanted is not None and wanted.key_id:  # completing reads the sealed parts back, as S3 does
        encryption.check_key_use(ctx.kms, ctx.caller, "kms:Decrypt", wanted.key_id)
    upload_id = await ctx.call(ctx.objects.create_multipart_upload, bucket, key,
                               content_type=ctx.headers.get("content-type"), metadata=ctx.metadata(),
                               encryption=wanted)
    document = root("InitiateMultipartUploadResult")
    add(document, "Bucket", bucket)
    add(document, "Key", key)
    add(document, "UploadId", upload_id)
    headers = encryption.response_headers(
        await ctx.call(ctx.objects.upload_encryption, bucket, key, upload_id))
    if algorithm := ctx.headers.get("x-amz-checksum-algorithm"):
        headers["x-amz-checksum-algorithm"] = algorithm
    return xml_response(document, headers=headers)


async def upload_part(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    upload_id = _upload_id(ctx)
    text = ctx.query.get("partNumber") or ""
    part_number = decimal(text, MAX_PART_NUMBER)
    if part_number is None or part_number < 1:
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
                      extra={"ArgumentName": "partNumber", "ArgumentValue": shown_value(text)})
    sealed_as = await ctx.call(ctx.objects.upload_encryption, bucket, key, upload_id)
    reader = ctx.body_reader()
    etag = await ctx.call(ctx.objects.upload_part, bucket, key, upload_id, part_number, reader)
    headers = {"ETag": etag, **encryption.response_headers(sealed_as)}
    for algorithm, value in reader.verified.items():
        headers[checksum_header(algorithm)] = value
    return empty_response(headers=headers)


async def complete_multipart_upload(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    upload_id = _upload_id(ctx)
    parts = parse_complete_multipart(await ctx.small_body())
    info = await ctx.call(ctx.objects.complete_multipart_upload, bucket, key, upload_id, parts)
    document = root("CompleteMultipartUploadResult")
    add(document, "Location", f"{str(ctx.request.base_url).rstrip('/')}/{bucket}/{key}")
    add(document, "Bucket", bucket)
    add(document, "Key", key)
    add(document, "ETag", info.etag)
    return xml_response(document, headers=encryption.response_headers(info.encryption))


async def abort_multipart_upload(ctx: S3Context) -> Response:
    await ctx.call(ctx.objects.abort_multipart_upload, ctx.require_bucket_name(), ctx.require_key(),
                   _upload_id(ctx))
    return empty_response(204)


async def list_parts(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    upload_id = _upload_id(ctx)
    marker = query_integer(ctx.query, "part-number-marker", default=0)
    max_parts = min(query_integer(ctx.query, "max-parts", default=MAX_LISTED), MAX_LISTED)
    parts = await ctx.call(ctx.objects.list_parts, bucket, key, upload_id)
    remaining = [p for p in parts if p.part_number > marker]
    page = remaining[:max_parts]
    document = root("ListPartsResult")
    add(document, "Bucket", bucket)
    add(document, "Key", key)
    add(document, "UploadId", upload_id)
    add(document, "PartNumberMarker", marker)
    if page:
        add(document, "NextPartNumberMarker", page[-1].part_number)
    add(document, "MaxParts", max_parts)
    add(document, "IsTruncated", len(remaining) > len(page))
    for part in page:
        entry = add(document, "Part")
        add(entry, "PartNumber", part.part_number)
        add(entry, "LastModified", iso8601(part.last_modified))
        add(entry, "ETag", part.etag)
        add(entry, "Size", part.size)
    add_owner(document, "Initiator")
    add_owner(document)
    add(document, "StorageClass", "STANDARD")
    return xml_response(document)


async def list_multipart_uploads(ctx: S3Context) -> Response:
    bucket = ctx.require_bucket_name()
    query = ctx.query
    prefix = query.get("prefix") or ""
    key_marker, upload_id_marker = query.get("key-marker") or "", query.get("upload-id-marker") or ""
    max_uploads = min(query_integer(query, "max-uploads", default=MAX_LISTED), MAX_LISTED)
    uploads = await ctx.call(ctx.objects.list_multipart_uploads, bucket, prefix)
    if key_marker:
        # Uploads of keys after key-marker; with upload-id-marker, also those of key-marker itself listed
        # after that upload (uploads of one key are listed oldest first).
        ids = [u.upload_id for u in uploads if u.key == key_marker]
        later_of_marker = ids[ids.index(upload_id_marker) + 1:] if upload_id_marker in ids else []
        uploads = [u for u in uploads if u.key > key_marker or u.upload_id in later_of_marker]
    page = uploads[:max_uploads]
    truncated = len(uploads) > len(page)
    document = root("ListMultipartUploadsResult")
    add(document, "Bucket", bucket)
    add(document, "KeyMarker", key_marker)
    add(document, "UploadIdMarker", upload_id_marker)
    if truncated and page:
        add(document, "NextKeyMarker", page[-1].key)
        add(document, "NextUploadIdMarker", page[-1].upload_id)
    add(document, "Prefix", prefix)
    add(document, "MaxUploads", max_uploads)
    add(document, "IsTruncated", truncated)
    for upload in page:
        entry = add(document, "Upload")
        add(entry, "Key", upload.key)
        add(entry, "UploadId", upload.upload_id)
        add_owner(entry, "Initiator")
        add_owner(entry)
        add(entry, "StorageClass", "STANDARD")
        add(entry, "Initiated", iso8601(upload.initiated))
    return xml_response(document)
