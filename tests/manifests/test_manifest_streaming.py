"""Manifests read as streams: line ends, chunk boundaries, lines too long to hold, and memory that follows
the records kept, not the bytes read."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from openrek.manifests import ManifestRef, TerminalManifestError, rules, validate_manifest
from openrek.manifests.line_spool import JsonLinesStream, LineSpool

from .conftest import MANIFESTS, Factory, cls_line


def _validate(store, key: str):
    return validate_manifest(store, MANIFESTS, key, role="training")


def test_crlf_blank_lines_and_a_last_line_without_an_end(mk: Factory, store) -> None:
    a, b = mk.image(), mk.image()
    text = json.dumps(cls_line(a, "cat")) + "\r\n\r\n\n" + json.dumps(cls_line(b, "dog"))
    store.put_object(MANIFESTS, "crlf.manifest", b"\xef\xbb\xbf" + text.encode())
    m = _validate(store, "crlf.manifest")
    assert [(line.line_index, line.status) for line in m.lines] == [(0, "valid"), (3, "valid")]
    assert [r.labels for r in m.records] == [["cat"], ["dog"]]


def test_a_character_split_across_read_chunks_decodes(mk: Factory, store) -> None:
    """Lines long enough that multi-byte characters straddle the 1 MiB read chunks."""
    notes = "ñandú " + "é" * 150_001
    lines = [json.dumps({**cls_line(mk.image(), "cat" if i % 2 else "dog"), "notes": notes}, ensure_ascii=False)
             for i in range(12)]
    store.put_object(MANIFESTS, "wide.manifest", "\n".join(lines).encode())
    m = _validate(store, "wide.manifest")
    assert m.valid_json_lines == 12 and all(r.raw["notes"] == notes for r in m.records)


def test_an_undecodable_byte_is_reported_at_its_offset(store) -> None:
    data = b'{"source-ref": "s3://b/x.jpg"}\n' * 50_000  # past the first read chunk
    store.put_object(MANIFESTS, "latin1.manifest", data + b"caf\xe9\n")
    with pytest.raises(TerminalManifestError) as err:
        _validate(store, "latin1.manifest")
    assert err.value.code == rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT
    assert f"offset {len(data) + 3}" in err.value.message


def test_a_line_too_long_to_hold_is_that_lines_error(mk: Factory, store) -> None:
    """A 3 MB line (or a file without line ends) is never read into one string: the line is invalid."""
    good = [json.dumps(cls_line(mk.image(), label)) for label in ("cat", "dog", "cat", "dog", "cat")]
    huge = '{"source-ref": "s3://x/y.jpg", "pad": "' + "z" * 3_000_000 + '"}'
    store.put_object(MANIFESTS, "long.manifest", "\n".join([*good[:2], huge, *good[2:]]).encode())
    m = _validate(store, "long.manifest")
    assert [line.status for line in m.lines] == ["valid", "valid", "invalid", "valid", "valid", "valid"]
    assert m.lines[2].all_codes() == [rules.ERROR_INVALID_JSON_LINE]
    assert "longer than 1,000,000 characters" in m.lines[2].line_errors[0].message
    shown = m.lines[2].validation_json()["invalid-json-line"]
    assert shown.startswith('{"source-ref"') and len(shown) < 300


def test_too_many_lines_are_counted_without_being_kept(store) -> None:
    from openrek.manifests import Limits, validate_manifests

    store.put_object(MANIFESTS, "many.manifest", b'{"source-ref": "s3://b/x.jpg"}\n' * 1_200)
    with pytest.raises(TerminalManifestError) as err:
        validate_manifests(store, [ManifestRef(MANIFESTS, "many.manifest")], role="training",
                           limits=Limits(max_manifest_lines=1_000))
    assert err.value.code == rules.ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM and "has 1200 JSON lines" in err.value.message


def test_validation_keeps_records_not_the_lines_read(mk: Factory, store) -> None:
    """4,000 lines of 4 KB each (16 MB): what stays in memory afterwards is a fraction of what was read
    (the lines alone used to stay, with their parsed JSON beside them), because the lines, their JSON and
    their validation lines wait in a spool on disk; what is left is each record's ~1.4 KB."""
    image = mk.image()
    pad = "p" * 4_000
    lines = [{**cls_line(image, "cat" if i % 2 else "dog"), "notes": pad} for i in range(4_000)]
    ref = mk.manifest(lines, "padded.manifest")
    tracemalloc.start()
    try:
        m = _validate(store, ref.name)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert m.valid_json_lines == 4_000
    assert kept < 8 * 1024 * 1024, f"{kept / 2**20:.1f} MiB kept for 16 MB of lines"
    assert m.records[7].raw["notes"] == pad  # the line as read is still there, fetched on demand
    out = m.validation_manifest().read().decode().splitlines()
    assert len(out) == 4_000 and json.loads(out[3])["notes"] == pad


def test_spooled_lines_are_sealed_on_disk() -> None:
    spool = LineSpool()
    marker = "a manifest line nobody may read from the temp dir"
    index = spool.append(marker)
    assert spool.text(index) == marker
    spool._file.seek(0)
    assert marker.encode() not in spool._file.read()


def test_a_lines_stream_reads_in_any_sizes() -> None:
    stream = JsonLinesStream(f"line {i} " + "é" * (i % 7) for i in range(1_000))
    pieces = []
    while chunk := stream.read(37):
        pieces.append(chunk)
    text = b"".join(pieces).decode()
    assert text.splitlines() == [f"line {i} " + "é" * (i % 7) for i in range(1_000)]
