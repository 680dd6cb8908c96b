"""Files are hashed in chunks, in constant memory: whatever the chunk boundaries, the checksum is the one of the
whole file (whitespace runs, line ends, comment lines, byte-order marks, multi-byte characters and ``${…}``
split between chunks included)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from yamlbase.changelog import parse_changelog
from yamlbase.changelog.checksum import (
    _collapse_whitespace,
    _collapsed,
    _csv_bytes_slow,
    _csv_stream,
    _decode,
    _decoded,
    change_checksum,
)
from yamlbase.changelog.properties import expand, expand_pieces


def split(data: bytes | str, cuts: list[int]) -> list:  # type: ignore[type-arg]
    """``data`` cut at the given positions (sorted, within bounds; empty pieces included)."""
    points = sorted(c % (len(data) + 1) for c in cuts)
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


CUTS = st.lists(st.integers(min_value=0, max_value=200), max_size=8)
CSV = st.lists(st.sampled_from([b"a", b"bc", b"#", b"/", b"\r", b"\n", b"\r\n", b"\x00", b" "]), max_size=60).map(
    b"".join
)


@given(CSV, st.sampled_from(["#", "/", "//", None]), CUTS)
def test_csv_bytes_in_chunks_are_the_byte_by_byte_ones(data: bytes, prefix: str | None, cuts: list[int]) -> None:
    assert b"".join(_csv_stream(split(data, cuts), prefix)) == _csv_bytes_slow(data, prefix)


@given(st.lists(st.sampled_from([b"a", b"bc", b" ", b"\t", b"\r", b"\n", b"\x0b"]), max_size=40).map(b"".join), CUTS)
def test_whitespace_collapsed_in_chunks_is_collapsed_whole(data: bytes, cuts: list[int]) -> None:
    assert b"".join(_collapsed(split(data, cuts))) == _collapse_whitespace(data)


@given(
    st.text(alphabet="aé€\U0001f600 \n\ufeff", max_size=30),
    st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le"]),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]),
    st.binary(max_size=3),
    CUTS,
)
def test_text_decoded_in_chunks_is_decoded_whole(
    text: str, encoding: str, bom: bytes, junk: bytes, cuts: list[int]
) -> None:
    data = bom + text.encode(encoding) + junk  # with a BOM that may not fit, and bytes that may not decode
    assert "".join(_decoded(split(data, cuts), encoding)) == _decode(data, encoding)


@given(
    st.lists(st.sampled_from(["a", "$", "{", "}", "${", "${p}", "${q}", "${:p}", " "]), max_size=30).map("".join), CUTS
)
def test_properties_expanded_in_pieces_are_expanded_whole(text: str, cuts: list[int]) -> None:
    values = {"p": "P", "q": "${p}!"}

    def expand_text(piece: str) -> str:
        return expand(piece, values.get)

    try:
        whole = expand_text(text)
    except Exception as exc:  # an undefined name (e.g. "${a}"): the same in pieces
        whole = type(exc).__name__
    try:
        pieces = "".join(expand_pieces(split(text, cuts), expand_text))
    except Exception as exc:
        pieces = type(exc).__name__
    assert pieces == whole


def test_file_checksums_do_not_depend_on_the_chunk_size(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The changes that read files, through the changelog: each checksum is the one of the whole file."""
    import yamlbase.changes.base as base

    (tmp_path / "t.csv").write_bytes(b"# rows\r\nid,name\r\n\r\n1,\xc3\xa9t\xc3\xa9\r\n#2,no\n3,x\n\n")
    (tmp_path / "f.sql").write_bytes("\ufeffselect  '€' ;\n\n  select 2;\r\n".encode())
    (tmp_path / "v.sql").write_text("select  ${col}\n  from t  ", encoding="utf-8")
    (tmp_path / "changelog.yaml").write_text(
        "databaseChangeLog:\n"
        "  - property: {name: col, value: name}\n"
        "  - changeSet: {id: 1, author: t, changes: [loadData: {tableName: t, file: t.csv, relativeToChangelogFile: true}]}\n"
        "  - changeSet: {id: 2, author: t, changes: [sqlFile: {path: f.sql, relativeToChangelogFile: true}]}\n"
        "  - changeSet: {id: 3, author: t, changes: [createView: {viewName: v, path: v.sql, relativeToChangelogFile: true}]}\n",
        encoding="utf-8",
    )

    def checksums(chunk: int) -> list[str]:
        monkeypatch.setattr(base, "CHUNK", chunk)
        changelog = parse_changelog(tmp_path / "changelog.yaml")
        found = []
        for cs in changelog.changesets:
            change = cs.changes[0]
            (name, params) = cs.raw_changes[0]
            whole = b"".join(change.checksum_content() or [])
            for version in (8, 9):
                chunked = change_checksum(name, params, version, file_content=change.checksum_content())
                assert chunked == change_checksum(name, params, version, file_content=whole)
                found.append(chunked)
        return found

    assert checksums(1) == checksums(2) == checksums(7) == checksums(1 << 20)
    expanded = parse_changelog(tmp_path / "changelog.yaml").changesets[2].changes[0].checksum_content()
    assert b"".join(expanded or []) == b"select  name\n  from t  "


def test_a_file_that_cannot_be_read_hashes_no_bytes(tmp_path: Path) -> None:
    """As before chunks: a file that became unreadable after the changelog was read hashes as empty."""
    (tmp_path / "v.sql").write_bytes(b"select 1")
    (tmp_path / "changelog.yaml").write_text(
        "databaseChangeLog:\n"
        "  - changeSet: {id: 3, author: t, changes: [createView: {viewName: v, path: v.sql, relativeToChangelogFile: true}]}\n",
        encoding="utf-8",
    )
    cs = parse_changelog(tmp_path / "changelog.yaml").changesets[0]
    (tmp_path / "v.sql").write_bytes(b"select 1, " * 100 + b"\xff")  # no longer UTF-8, past the first chunk
    name, params = cs.raw_changes[0]
    assert change_checksum(name, params, file_content=cs.changes[0].checksum_content()) == change_checksum(
        name, params, file_content=b""
    )
