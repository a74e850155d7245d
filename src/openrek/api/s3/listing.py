"""ListObjectsV2 and ListObjects (v1): prefix, delimiter (CommonPrefixes), paging, encoding-type=url."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.responses import Response

from openrek.api.s3.context import S3Context
from openrek.api.s3.errors import S3Error
from openrek.api.s3.numbers import query_integer
from openrek.api.s3.responses import xml_response
from openrek.api.s3.xml_documents import Element, add, add_owner, iso8601, root
from openrek.store.objects import ObjectInfo, ObjectStore

MAX_KEYS = 1000
_AFTER_ALL = "\U0010ffff"  # sorts after every character a key can hold


@dataclass
class ListingPage:
    objects: list[ObjectInfo] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    last: str | None = None  # the last key or common prefix in the page


def _entries(objects: ObjectStore, bucket: str, prefix: str, delimiter: str,
             after: str) -> Iterator[ObjectInfo | str]:
    """Objects and common prefixes in key order, strictly after `after` (a key, or a common prefix)."""
    skip = None
    if delimiter and after.startswith(prefix) and delimiter in after[len(prefix):]:
        rest = after[len(prefix):]
        if after == prefix + rest[: rest.find(delimiter) + len(delimiter)]:
            skip = after  # `after` is a common prefix: continue after everything under it
    start = after + _AFTER_ALL if skip else after
    while True:
        restart = None
        for info in objects.list_objects(bucket, prefix=prefix, start_after=start):
            if skip is not None and info.key.startswith(skip):
                continue
            rest = info.key[len(prefix):]
            cut = rest.find(delimiter) if delimiter else -1
            if cut < 0:
                yield info
                continue
            common = prefix + rest[: cut + len(delimiter)]
            yield common
            # Jump past every key under this common prefix instead of reading them all.
            skip, restart = common, common + _AFTER_ALL
            break
        if restart is None:
            return
        start = restart


def list_page(objects: ObjectStore, bucket: str, prefix: str, delimiter: str, after: str,
              max_keys: int) -> ListingPage:
    page = ListingPage()
    if max_keys == 0:
        return page
    for entry in _entries(objects, bucket, prefix, delimiter, after):
        if len(page.objects) + len(page.common_prefixes) == max_keys:
            page.is_truncated = True
            break
        if isinstance(entry, str):
            page.common_prefixes.append(entry)
            page.last = entry
        else:
            page.objects.append(entry)
            page.last = entry.key
    return page


def _max_keys(ctx: S3Context) -> int:
    return min(query_integer(ctx.query, "max-keys", default=MAX_KEYS, argument="maxKeys"), MAX_KEYS)


def _encoder(ctx: S3Context) -> Callable[[str], str]:
    encoding = ctx.query.get("encoding-type")
    if encoding is None:
        return lambda text: text
    if encoding != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request",
                      extra={"ArgumentName": "encoding-type", "ArgumentValue": encoding})
    return lambda text: quote(text, safe="/")


def _render_contents(document: Element, page: ListingPage, encode: Callable[[str], str],
                     fetch_owner: bool) -> None:
    for info in page.objects:
        entry = add(document, "Contents")
        add(entry, "Key", encode(info.key))
        add(entry, "LastModified", iso8601(info.last_modified))
        add(entry, "ETag", info.etag)
        add(entry, "Size", info.size)
        if fetch_owner:
            add_owner(entry)
        add(entry, "StorageClass", "STANDARD")
    for common in page.common_prefixes:
        add(add(document, "CommonPrefixes"), "Prefix", encode(common))


def _encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect",
                      extra={"ArgumentName": "continuation-token"}) from None


async def list_objects_v2(ctx: S3Context) -> Response:
    bucket = await ctx.existing_bucket()
    query = ctx.query
    prefix, delimiter = query.get("prefix") or "", query.get("delimiter") or ""
    start_after = query.get("start-after") or ""
    token = query.get("continuation-token")
    max_keys, encode = _max_keys(ctx), _encoder(ctx)
    after = _decode_token(token) if token else start_after
    page = await ctx.call(list_page, ctx.objects, bucket, prefix, delimiter, after, max_keys)

    document = root("ListBucketResult")
    add(document, "Name", bucket)
    add(document, "Prefix", encode(prefix))
    if delimiter:
        add(document, "Delimiter", encode(delimiter))
    add(document, "MaxKeys", max_keys)
    if "encoding-type" in query:
        add(document, "EncodingType", "url")
    add(document, "KeyCount", len(page.objects) + len(page.common_prefixes))
    add(document, "IsTruncated", page.is_truncated)
    if token:
        add(document, "ContinuationToken", token)
    if page.is_truncated and page.last is not None:
        add(document, "NextContinuationToken", _encode_token(page.last))
    if start_after:
        add(document, "StartAfter", encode(start_after))
    _render_contents(document, page, encode, fetch_owner=query.get("fetch-owner") == "true")
    return xml_response(document)


async def list_objects_v1(ctx: S3Context) -> Response:
    bucket = await ctx.existing_bucket()
    query = ctx.query
    prefix, delimiter = query.get("prefix") or "", query.get("delimiter") or ""
    marker = query.get("marker") or ""
    max_keys, encode = _max_keys(ctx), _encoder(ctx)
    page = await ctx.call(list_page, ctx.objects, bucket, prefix, delimiter, marker, max_keys)

    document = root("ListBucketResult")
    add(document, "Name", bucket)
    add(document, "Prefix", encode(prefix))
    add(document, "Marker", encode(marker))
    if page.is_truncated and delimiter and page.last is not None:
        add(document, "NextMarker", encode(page.last))
    add(document, "MaxKeys", max_keys)
    if delimiter:
        add(document, "Delimiter", encode(delimiter))
    if "encoding-type" in query:
        add(document, "EncodingType", "url")
    add(document, "IsTruncated", page.is_truncated)
    _render_contents(document, page, encode, fetch_owner=True)
    return xml_response(document)
