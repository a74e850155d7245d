"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads.
"""

from __future__ import annotations

from starlette.responses import Response

from openrek.api.s3 import encryption
from openrek.api.s3.checksums import checksum_header
from openrek.api.s3.context import S3Context
from openrek.api.s3.errors import S3Error
from openrek.api.s3.responses import empty_response, xml_response
from openrek.api.s3.xml_documents import add, add_owner, iso8601, parse_complete_multipart, root


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
    if not text.isdigit():
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.",
                      extra={"ArgumentName": "partNumber", "ArgumentValue": text})
    sealed_as = await ctx.call(ctx.objects.upload_encryption, bucket, key, upload_id)
    reader = ctx.body_reader()
    etag = await ctx.call(ctx.objects.upload_part, bucket, key, upload_id, int(text), reader)
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
    parts = await ctx.call(ctx.objects.list_parts, bucket, key, upload_id)
    marker_text = ctx.query.get("part-number-marker") or "0"
    max_text = ctx.query.get("max-parts") or "1000"
    if not marker_text.isdigit() or not max_text.isdigit():
        raise S3Error("InvalidArgument", "part-number-marker and max-parts must be non-negative integers.")
    marker, max_parts = int(marker_text), min(int(max_text), 1000)
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
    prefix = ctx.query.get("prefix") or ""
    uploads = await ctx.call(ctx.objects.list_multipart_uploads, bucket, prefix)
    document = root("ListMultipartUploadsResult")
    add(document, "Bucket", bucket)
    add(document, "KeyMarker", "")
    add(document, "UploadIdMarker", "")
    add(document, "Prefix", prefix)
    add(document, "MaxUploads", 1000)
    add(document, "IsTruncated", False)
    for upload in uploads[:1000]:
        entry = add(document, "Upload")
        add(entry, "Key", upload.key)
        add(entry, "UploadId", upload.upload_id)
        add_owner(entry, "Initiator")
        add_owner(entry)
        add(entry, "StorageClass", "STANDARD")
        add(entry, "Initiated", iso8601(upload.initiated))
    return xml_response(document)
