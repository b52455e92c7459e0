"""warcio, bounded: what it would read into memory without a limit of its own is given one here.

warcio reads a record's WARC and HTTP headers line by line, each line whole, however long, and every line until a
blank one: a record of one endless header line, or of millions of short ones, would be held whole (a WARC of a
few hundred kB inflates to gigabytes). ``BoundedRecords`` is warcio's ArchiveIterator over a reader that allows
a record ``MAX_HEADER_BYTES`` of lines before its body, and raises ``HeadersTooLarge`` (a ValueError, which
``pipelines.warc`` reports as damage at that record) past it. Bodies are bounded where they are read
(``pipelines.warc.MAX_BODY_BYTES``). ``FileSlice`` confines the reading to a byte range of a file (a WARC inside
a WACZ).
"""

from __future__ import annotations

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader

# A record's WARC and HTTP header lines, together. Servers refuse a request's headers past 8-64 kB (nginx 8 kB a
# line, Apache 8 kB a line and 100 lines); a megabyte leaves room for any real record.
MAX_HEADER_BYTES = 1024 * 1024


class HeadersTooLarge(ValueError):
    """A record's header lines run past MAX_HEADER_BYTES: the file cannot be read on from there."""


class HeaderBoundReader(DecompressingBufferedReader):
    """warcio's reader, with a budget for the lines read since the last body read (a record's headers)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_budget = MAX_HEADER_BYTES

    def readline(self, length=None):
        limit = self.line_budget + 1 if length is None else min(length, self.line_budget + 1)
        line = super().readline(limit)
        self.line_budget -= len(line)
        if self.line_budget < 0:
            raise HeadersTooLarge(f"a record's header lines run past {MAX_HEADER_BYTES:,} bytes")
        return line

    def read(self, length=None):
        self.line_budget = MAX_HEADER_BYTES  # a body is being read: the headers before it are done
        return super().read(length)


class BoundedRecords(ArchiveIterator):
    """warcio's ArchiveIterator over a HeaderBoundReader, the budget renewed for each record."""

    def __init__(self, fileobj, **options):
        super().__init__(fileobj, **options)
        self.reader = HeaderBoundReader(self.fh)

    def __iter__(self):
        return self

    def __next__(self):
        # Records with no body (revisits, requests) follow one another without a read in between.
        self.reader.line_budget = MAX_HEADER_BYTES
        return next(self.the_iter)


class FileSlice:
    """The bytes of an open file from ``start``, ``size`` of them: a WARC stored inside a WACZ, as a file."""

    def __init__(self, f, start: int, size: int | None):
        f.seek(start)
        self.f, self.start, self.left = f, start, size

    def read(self, size: int = -1) -> bytes:
        if self.left is not None:
            size = self.left if size < 0 else min(size, self.left)
        data = self.f.read(size)
        if self.left is not None:
            self.left -= len(data)
        return data

    def tell(self) -> int:
        return self.f.tell() - self.start
