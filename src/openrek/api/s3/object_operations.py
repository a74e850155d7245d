"""Object operations: PutObject, GetObject (with Range), HeadObject, DeleteObject, DeleteObjects, CopyObject."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import unquote

from starlette.responses import Response, StreamingResponse

from openrek.api.s3 import encryption
from openrek.api.s3.byte_ranges import resolve_range
from openrek.api.s3.checksums import checksum_header
from openrek.api.s3.context import S3Context
from openrek.api.s3.errors import S3Error
from openrek.api.s3.responses import checked_header_value, empty_response, object_headers, xml_response
from openrek.api.s3.xml_documents import add, iso8601, parse_delete, root
from openrek.store.objects import NoSuchBucket, ObjectInfo, ObjectStoreError, is_internal_bucket

_STREAM_CHUNK = 256 * 1024
# GetObject query parameters that override response headers.
_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


async def put_object(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    wanted = await ctx.call(encryption.requested, ctx.headers, ctx.kms, ctx.caller_or_owner())
    reader = ctx.body_reader()
    info = await ctx.call(ctx.objects.put_object, bucket, key, reader,
                          content_type=ctx.headers.get("content-type"), metadata=ctx.metadata(), encryption=wanted)
    headers = {"ETag": info.etag, **encryption.response_headers(info.encryption)}
    for algorithm, value in reader.verified.items():
        headers[checksum_header(algorithm)] = value
    return empty_response(headers=headers)


def _parse_http_date(value: str) -> datetime | None:
    """An HTTP date, or None for what is not one (ignored, as S3 ignores it); one without a zone is UTC."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):  # a year of 11 digits overflows
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _etag_matches(header: str, etag: str) -> bool:
    wanted = {e.strip().removeprefix("W/").strip('"') for e in header.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


def _check_preconditions(ctx: S3Context, info: ObjectInfo) -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, with S3's precedence."""
    headers = ctx.headers
    modified = info.last_modified.replace(microsecond=0)
    if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
    if if_match is not None:
        if not _etag_matches(if_match, info.etag):
            raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold.",
                          extra={"Condition": "If-Match"})
    elif (since := _parse_http_date(headers.get("if-unmodified-since", ""))) and modified > since:
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold.",
                      extra={"Condition": "If-Unmodified-Since"})
    if if_none_match is not None:
        if _etag_matches(if_none_match, info.etag):
            raise S3Error("NotModified", "Not Modified", headers={"ETag": info.etag})
    elif (since := _parse_http_date(headers.get("if-modified-since", ""))) and modified <= since:
        raise S3Error("NotModified", "Not Modified", headers={"ETag": info.etag})


def _stream(stream: BinaryIO, remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            chunk = stream.read(min(_STREAM_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()


def _refuse_sse_on_reads(ctx: S3Context) -> None:
    encryption.refuse_customer_keys(ctx.headers)
    if encryption.SSE in ctx.headers:
        raise S3Error("InvalidArgument", "x-amz-server-side-encryption header is not supported for this operation.",
                      extra={"ArgumentName": encryption.SSE})


async def get_object(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    _refuse_sse_on_reads(ctx)
    # Refused before anything is read: a value with CR/LF could not be sent (nor split into two headers).
    overrides = {header: checked_header_value(ctx.query[parameter], parameter)
                 for parameter, header in _RESPONSE_OVERRIDES.items() if parameter in ctx.query}
    # Who may decrypt is decided before anything is decrypted.
    encryption.check_readable(ctx.kms, ctx.caller, (await ctx.call(ctx.objects.head_object, bucket, key)).encryption)
    info, stream = await ctx.call(ctx.objects.open_object, bucket, key)
    try:
        _check_preconditions(ctx, info)
        span = resolve_range(ctx.headers.get("range"), info.size)
        headers = object_headers(info)
        headers.update(overrides)
        status, first, length = 200, 0, info.size
        if span is not None:
            first, last = span
            length = last - first + 1
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
            if first:
                await ctx.call(stream.seek, first)
        headers["Content-Length"] = str(length)
    except BaseException:
        stream.close()
        raise
    if length <= _STREAM_CHUNK:
        try:
            body = await ctx.call(stream.read, length)
        finally:
            stream.close()
        return Response(body, status_code=status, headers=headers)
    return StreamingResponse(_stream(stream, length), status_code=status, headers=headers)


async def head_object(ctx: S3Context) -> Response:
    _refuse_sse_on_reads(ctx)
    info = await ctx.call(ctx.objects.head_object, ctx.require_bucket_name(), ctx.require_key())
    _check_preconditions(ctx, info)
    headers = object_headers(info)
    headers["Content-Length"] = str(info.size)
    span = resolve_range(ctx.headers.get("range"), info.size)
    if span is not None:
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{info.size}"
        headers["Content-Length"] = str(span[1] - span[0] + 1)
        return empty_response(206, headers)
    return empty_response(headers=headers)


async def delete_object(ctx: S3Context) -> Response:
    await ctx.call(ctx.objects.delete_object, ctx.require_bucket_name(), ctx.require_key())
    return empty_response(204)


async def delete_objects(ctx: S3Context) -> Response:
    bucket = ctx.require_bucket_name()
    keys, quiet = parse_delete(await ctx.small_body())

    def delete_all() -> list[tuple[str, ObjectStoreError | None]]:
        results: list[tuple[str, ObjectStoreError | None]] = []
        for key in keys:
            try:
                ctx.objects.delete_object(bucket, key)
                results.append((key, None))
            except ObjectStoreError as error:
                if error.code == "NoSuchBucket":
                    raise
                results.append((key, error))
        return results

    document = root("DeleteResult")
    for key, error in await ctx.call(delete_all):
        if error is None:
            if not quiet:
                add(add(document, "Deleted"), "Key", key)
        else:
            entry = add(document, "Error")
            add(entry, "Key", key)
            add(entry, "Code", error.code)
            add(entry, "Message", error.message)
    return xml_response(document)


def _copy_source(header: str) -> tuple[str, str]:
    source = unquote(header.split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: "
                      "sourcebucket/sourcekey.", extra={"ArgumentName": "x-amz-copy-source"})
    return bucket, key


async def copy_object(ctx: S3Context) -> Response:
    bucket, key = ctx.require_bucket_name(), ctx.require_key()
    src_bucket, src_key = _copy_source(ctx.headers["x-amz-copy-source"])
    directive = (ctx.headers.get("x-amz-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.",
                      extra={"ArgumentName": "x-amz-metadata-directive"})
    if (src_bucket, src_key) == (bucket, key) and directive == "COPY":
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata, storage class, website redirect "
                      "location or encryption attributes.")
    await ctx.small_body()
    content_type = metadata = None
    if directive == "REPLACE":
        content_type, metadata = ctx.headers.get("content-type"), ctx.metadata()
    if is_internal_bucket(src_bucket):  # openrek's own buckets do not exist for S3 clients, as sources either
        raise NoSuchBucket(f"The bucket {src_bucket!r} does not exist.", bucket=src_bucket)
    wanted = await ctx.call(encryption.requested, ctx.headers, ctx.kms, ctx.caller_or_owner())
    encryption.check_readable(ctx.kms, ctx.caller,
                              (await ctx.call(ctx.objects.head_object, src_bucket, src_key)).encryption)
    info = await ctx.call(ctx.objects.copy_object, src_bucket, src_key, bucket, key,
                          content_type=content_type, metadata=metadata, encryption=wanted)
    document = root("CopyObjectResult")
    add(document, "ETag", info.etag)
    add(document, "LastModified", iso8601(info.last_modified))
    return xml_response(document, headers=encryption.response_headers(info.encryption))
