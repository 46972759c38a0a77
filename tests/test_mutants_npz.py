"""pyneuron._npz beyond test_files_invalid: what the mutation run (.ci/mutation.py)
showed untested — the header-size limit at its edge, how the data are read (pieces of
at most CHUNK_BYTES, never more than the header implies, one more byte for zipfile's
CRC check), a member shorter than its record, and the list of duplicated names.
Archives are written byte by byte here (the .npy layout of numpy.lib.format), so the
expected outcome of each is known without the reader."""
from __future__ import annotations

import io
import struct
import threading
import warnings
import zipfile
import zlib

import numpy as np
import pytest

from pyneuron._npz import NpzError, NpzReader


def npy_bytes(header_length, data=b"\0" * 16, shape="(2,)"):
    """A version 1.0 .npy member for a float64 array, its header padded with spaces to
    exactly ``header_length`` bytes (magic, version, a uint16 length, header, data)."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape
    header = text.ljust(header_length - 1).encode("latin1") + b"\n"
    assert len(header) == header_length
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", header_length) + header + data


def archive(members):
    """An uncompressed zip of ``{name: bytes}`` (duplicate names given as a list of pairs)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        warnings.simplefilter("ignore")                 # "Duplicate name" is the point
        for name, data in (members.items() if isinstance(members, dict) else members):
            z.writestr(name, data)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("length, accepted", [(10_000, True), (10_001, False)])
def test_the_header_limit_is_numpys_ten_thousand_bytes(length, accepted):
    """numpy.lib.format's default max_header_size, 10000, at its edge."""
    data = np.array([1.5, -2.0]).tobytes()
    with NpzReader(archive({"x.npy": npy_bytes(length, data)})) as npz:
        if accepted:
            assert npz.read_array("x", (2,), np.float64).tolist() == [1.5, -2.0]
        else:
            with pytest.raises(NpzError, match=r"'x' could not be read \(ValueError: Header info length \(10001\) is large"):
                npz.read_array("x", (2,), np.float64)


def test_data_are_read_in_pieces_of_one_mebibyte_and_no_further(monkeypatch):
    """A 2.5 MiB array: pieces of 1 MiB, 1 MiB, 0.5 MiB (what remains, never more), then
    one byte so that zipfile reaches the end and checks the CRC."""
    values = np.arange(5 * 2 ** 16, dtype=np.float64)          # 5 * 2**16 * 8 bytes = 2.5 MiB
    buf = io.BytesIO()
    np.savez(buf, x=values)
    buf.seek(0)
    asked = []
    read = zipfile.ZipExtFile.read

    def spy(self, n=-1):
        asked.append(n)
        return read(self, n)
    monkeypatch.setattr(zipfile.ZipExtFile, "read", spy)
    with NpzReader(buf) as npz:
        got = npz.read_array("x", values.shape, np.float64)
    assert np.array_equal(got, values)
    assert asked[-4:] == [2 ** 20, 2 ** 20, 2 ** 19, 1]
    assert max(asked) == 2 ** 20


def test_a_changed_byte_fails_the_crc_check():
    raw = bytearray(archive({"x.npy": npy_bytes(118, np.array([1.0, 2.0]).tobytes())}).getvalue())
    at = raw.index(np.array([2.0]).tobytes())
    raw[at + 7] ^= 0x01                                     # 2.0 becomes another float
    with NpzReader(io.BytesIO(bytes(raw))) as npz:
        with pytest.raises(NpzError, match=r"'x' could not be read \(BadZipFile"):
            npz.read_array("x", (2,), np.float64)


def short_member_archive():
    """A stored member whose central-directory record keeps the full size (so the size
    check passes) but whose compressed size and CRC are those of its first 8 data bytes:
    zipfile then ends the member early, without a CRC error."""
    full = npy_bytes(118, np.array([1.0, 2.0]).tobytes())
    short = full[:-8]
    raw = bytearray(archive({"x.npy": full}).getvalue())
    central = raw.index(b"PK\x01\x02")                      # the central directory entry
    # offsets in a central directory entry: CRC-32 at 16, compressed size at 20
    raw[central + 16:central + 24] = struct.pack("<II", zlib.crc32(short), len(short))
    return io.BytesIO(bytes(raw))


def test_a_member_shorter_than_its_record_is_refused():
    outcome = []

    def attempt():
        try:
            with NpzReader(short_member_archive()) as npz:
                npz.read_array("x", (2,), np.float64)
            outcome.append("read")
        except NpzError as exc:
            outcome.append(str(exc))
    worker = threading.Thread(target=attempt, daemon=True)   # a reader that loops forever fails here
    worker.start()
    worker.join(timeout=30)
    assert outcome == ["'x' ends after 8 of its 16 data bytes"]


def test_duplicate_names_are_listed_five_at_most():
    names = [f"m{i}.npy" for i in range(7)]
    with pytest.raises(NpzError, match=r"names a member more than once: \['m0.npy', 'm1.npy', 'm2.npy', "
                                       r"'m3.npy', 'm4.npy'\]$"):
        NpzReader(archive([(n, b"") for n in names] * 2))
