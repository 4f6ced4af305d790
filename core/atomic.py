"""Atomic file writes: one temp file beside the target, renamed into place, so a crash never leaves a
half-written file. No torch here, so text tokenizers and configs can use it too.

The temp is named ``.<target>.mm4m-partial.<host>.<pid>.<token>.tmp``; a save that was killed leaves one,
and the next save of that target removes it once its process is gone (only on the same host).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_MARKER = "mm4m-partial"


def _host() -> str:
    """This machine's name as one temp-name component (letters, digits and dashes)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def partial_path(target: Path, pid: int, token: str) -> Path:
    """The temp file a save of ``target`` by process ``pid`` on this host writes into."""
    return target.with_name(f".{target.name}.{PARTIAL_MARKER}.{_host()}.{pid}.{token}.tmp")


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs here; never guessed off POSIX (where signal 0 is not a probe)."""
    if os.name != "posix" or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
        return False
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False


def remove_stale_partials(target: Path) -> None:
    """Delete the temps that killed saves of ``target`` on this host left beside it."""
    prefix, suffix = f".{target.name}.{PARTIAL_MARKER}.{_host()}.", ".tmp"
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        pid, dot, _ = entry.name[len(prefix):-len(suffix)].partition(".")
        if dot and pid.isdigit() and _process_gone(int(pid)):
            Path(entry.path).unlink(missing_ok=True)


@contextmanager
def atomic_paths(*paths: str | os.PathLike[str]) -> Iterator[list[Path]]:
    """Yield one new, empty temp path beside each of ``paths``; after the body has written them all, they
    replace their targets in order. On an error the temps are removed, so a failed write changes no target.

    An `OSError` (disk full, file too large) is re-raised naming the targets, with its errno kept.
    """
    targets = [Path(path) for path in paths]
    temps: list[Path] = []
    replaced: list[str] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_partials(target)
            tmp = partial_path(target, os.getpid(), os.urandom(4).hex())
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # umask applies, as for open()
            temps.append(tmp)
        yield temps
        for tmp, target in zip(temps, targets):
            os.replace(tmp, target)
            replaced.append(str(target))
    except OSError as exc:
        _remove(temps)
        named = " and ".join(str(target) for target in targets)
        saved = f"only {' and '.join(replaced)} was replaced" if replaced else "nothing was saved"
        message = f"cannot write {named}: {exc.strerror or exc}; {saved} (no partial file is left)"
        raise (OSError(exc.errno, message) if exc.errno else OSError(message)) from exc
    except BaseException:
        _remove(temps)
        raise


def _remove(temps: list[Path]) -> None:
    for tmp in temps:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new, empty temp path beside ``path``; on success it replaces ``path``, on error it is removed."""
    with atomic_paths(path) as (tmp,):
        yield tmp


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
