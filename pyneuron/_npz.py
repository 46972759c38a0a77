"""Reading an ``.npz`` file defensively: only the members asked for, each one's
``.npy`` header checked against the shape and dtype the caller expects *before*
its data is read, and the data read in pieces so a file can never make us
allocate more than it really holds.

An ``.npz`` is a zip archive with one ``name.npy`` member per array; a ``.npy``
member is a magic string, a header (a Python dict literal with ``descr``,
``fortran_order`` and ``shape``) and the raw bytes (NumPy's format
specification, ``numpy.lib.format``). ``numpy.load`` reads a member whole when it
is indexed and trusts its header's size; here nothing is read that was not
expected, so a member that claims terabytes, or a deflated member that expands
to gigabytes, costs nothing.

Every failure raises :class:`NpzError`; the caller adds which file it was.
"""
from __future__ import annotations

import contextlib
import zipfile
from collections import Counter

import numpy as np

#: Data are read in pieces of this many bytes.
CHUNK_BYTES = 1 << 20
#: The longest ``.npy`` header accepted (NumPy's own default limit).
MAX_HEADER_BYTES = 10_000


class NpzError(ValueError):
    """A member is missing, mis-shaped, truncated or corrupt."""


class NpzReader:
    """The members of one open ``.npz`` archive (use as a context manager).

    Refuses an archive that names a member twice (which member ``numpy.load``
    would read depends on the zip library; here it is an error).
    """

    def __init__(self, fileobj: object) -> None:
        self._zip = zipfile.ZipFile(fileobj)
        names = self._zip.namelist()
        twice = sorted(name for name, count in Counter(names).items() if count > 1)
        if twice:
            raise NpzError(f"the archive names a member more than once: {twice[:5]}")
        self.names = {n[:-4] for n in names if n.endswith(".npy")}

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def read_array(self, name: str, shape: tuple[int, ...], dtype: np.typing.DTypeLike) -> np.ndarray:
        """The member ``name`` as an array, which must be C-ordered, of ``dtype``
        (exactly, byte order included) and of ``shape``. Returns a writable,
        aligned array that owns its memory."""
        with self._failures_named(name):
            return self._read_array(name, shape, dtype)

    def read_text(self, name: str, max_chars: int) -> str:
        """The member ``name``: one string (a 0-d unicode array, as ``numpy.savez``
        writes ``np.array("...")``) of at most ``max_chars`` characters."""
        with self._failures_named(name):
            return self._read_text(name, max_chars)

    @staticmethod
    @contextlib.contextmanager
    def _failures_named(name):
        """The zip, zlib and header layers fail in many ways (BadZipFile, EOFError,
        zlib.error, NotImplementedError for an unknown compression, RuntimeError
        for encryption, ValueError for a bad header ...): each is an NpzError
        naming the member."""
        try:
            yield
        except NpzError:
            raise
        except Exception as exc:
            raise NpzError(f"{name!r} could not be read ({type(exc).__name__}: {exc})") from exc

    def _read_array(self, name, shape, dtype):
        dtype = np.dtype(dtype)
        shape = tuple(int(n) for n in shape)
        n_bytes = dtype.itemsize * int(np.prod(shape, dtype=object))
        with self._open(name) as member:
            header_bytes, got_shape, fortran, got_dtype = self._header(member, name)
            if got_dtype.hasobject:
                raise NpzError(f"{name!r} holds Python objects, which only pickle could load; refused")
            if got_dtype != dtype or tuple(got_shape) != shape or fortran:
                order = "Fortran" if fortran else "C"
                raise NpzError(f"{name!r} holds a {order}-ordered {got_dtype} array of shape {got_shape}, "
                               f"expected a C-ordered {dtype} array of shape {shape}")
            self._check_size(name, header_bytes + n_bytes)
            data = self._read_exactly(member, name, n_bytes)
        arr = np.frombuffer(data, dtype=dtype).reshape(shape)
        return arr if arr.flags.aligned else arr.copy()

    def _read_text(self, name, max_chars):
        with self._open(name) as member:
            header_bytes, shape, fortran, dtype = self._header(member, name)
            if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * max_chars:
                raise NpzError(f"{name!r} holds a {dtype} array of shape {shape}, "
                               f"expected one string of at most {max_chars} characters")
            self._check_size(name, header_bytes + dtype.itemsize)
            data = self._read_exactly(member, name, dtype.itemsize)
        # a code point beyond U+10FFFF fails here (a SystemError, named by _failures_named)
        return str(np.frombuffer(data, dtype=dtype)[0])

    # ------------------------------------------------------------------ the pieces
    def _open(self, name):
        if name not in self.names:
            raise NpzError(f"the member {name!r} is missing")
        return self._zip.open(name + ".npy")

    def _header(self, member, name):
        """(bytes before the data, shape, fortran_order, dtype) of a member."""
        version = np.lib.format.read_magic(member)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise NpzError(f"{name!r} has .npy format version {version}; expected 1.0 or 2.0")
        shape, fortran, dtype = readers[version](member, max_header_size=MAX_HEADER_BYTES)
        return member.tell(), shape, fortran, dtype

    def _check_size(self, name, expected):
        # zipfile never returns more than the size the archive records, so this
        # also bounds what is read; a record that disagrees is a corrupt file
        recorded = self._zip.getinfo(name + ".npy").file_size
        if recorded != expected:
            raise NpzError(f"{name!r} records {recorded} bytes, its header implies {expected}")

    @staticmethod
    def _read_exactly(member, name, n_bytes):
        data = bytearray()
        while len(data) < n_bytes:
            piece = member.read(min(CHUNK_BYTES, n_bytes - len(data)))
            if not piece:
                raise NpzError(f"{name!r} ends after {len(data)} of its {n_bytes} data bytes")
            data += piece
        # Reading past the end makes zipfile check the CRC (a changed byte is a
        # BadZipFile); it returns nothing more, since _check_size matched the record.
        member.read(1)
        return data
