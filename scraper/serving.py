"""How `scraper serve` runs Datasette: its own `serve` command in this process, on a path it can open."""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click

from .errors import PortBusy

# Characters that mean something in a `file:` URI (SQLite's): a query, a fragment, an escape.
_URI_SPECIAL = ("#", "?", "%")


def run_datasette(db_path: str, host: str, port: int, extra: list[str]) -> int:
    """Datasette's own `serve` command, in this process. Our settings come first, so the user's win."""
    from datasette.cli import cli as datasette_cli

    # All rows of a large archive as CSV (`_stream=on`) are well over Datasette's default 100 MB cap; the table
    # view shows 200 characters of each body, not 2,048 (a page of 100 articles was 950 kB); and a search that
    # matches most of 100,000 articles (0.15 s on an idle machine) must not become an error page when a cold
    # cache or a busy machine pushes it past Datasette's 1 s limit (it did, before schema step 009).
    args = ["serve", db_path, "--host", host, "--port", str(port), "--setting", "max_csv_mb", "0",
            "--setting", "truncate_cells_html", "200", "--setting", "sql_time_limit_ms", "5000", *extra]
    try:
        datasette_cli.main(args=args, prog_name="scraper serve", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def check_port(host: str, port: int, datasette_args: Sequence[str] = ()) -> None:
    """Raise PortBusy unless ``host:port`` can be listened on: bound here and let go at once, as uvicorn binds it
    (SO_REUSEADDR, so a port a closed server left in TIME_WAIT is free), so that a taken port is one line and
    not uvicorn's four-line log. Port 0 is always free, and Datasette's --get and --uds listen on no port."""
    if port == 0 or any(arg.split("=")[0] in ("--get", "--uds") for arg in datasette_args):
        return
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortBusy(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                taken = " (another server is using it: stop it, or give --port)" if exc.errno == errno.EADDRINUSE \
                    else ""
                raise PortBusy(f"cannot listen on {host}:{port}: {exc.strerror}{taken}") from None


@contextmanager
def uri_safe_path(db_path: str) -> Iterator[str]:
    """A path to the database that Datasette can open: itself, or a symbolic link to it in a temporary folder.

    Datasette 0.65 writes the path into a ``file:`` URI as it is, so ``#`` and ``?`` end the file name there and
    ``%`` starts an escape: it served another, new and empty, file (or crashed). The link is named as the file is,
    those characters replaced (the name Datasette shows); SQLite follows it to the real file, whose WAL and
    locks are the ones every other process uses.
    """
    real = os.path.realpath(db_path)
    if not any(c in real for c in _URI_SPECIAL):
        yield db_path
        return
    with tempfile.TemporaryDirectory(prefix="scraper-serve-") as folder:
        if any(c in folder for c in _URI_SPECIAL):
            raise click.ClickException(f"cannot serve {db_path}: rename it (or the temporary folder {folder}) "
                                       "without # ? or %")
        link = os.path.join(folder, "".join("_" if c in _URI_SPECIAL else c for c in os.path.basename(real)))
        os.symlink(real, link)
        yield link
