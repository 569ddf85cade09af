"""The per-user cache directory and the rules for trusting what is in it.

Two caches live here: compiled user dictionaries (:mod:`segcli.dictcache`)
and a model's hash tables (:mod:`segcli.tablecache`). Each owns its file
format; this module owns where the files are and who may have written them.

Defence in depth: what a cache file holds is read back by C code, so only
files that only the user could have written are read. The directory is
opened once and checked through its file descriptor (owned by the user, not
writable by group or others); every file is opened relative to it without
following symbolic links and checked the same way (a regular file, owned by
the user, not group- or world-writable). Directories are created 0700 and
files 0600, written to a temporary name and renamed into place, so a reader
never sees half a file.

The directory is ``$SEG_CACHE_DIR``, else ``$XDG_CACHE_HOME/seg``, else
``~/.cache/seg``. When ``$SEG_CACHE_DIR`` names a directory that exists but
is unsafe (someone else's, group- or world-writable) or is not a directory,
:class:`~segcli.errors.CacheError` says so in one line; for the default
location the cache is skipped silently. Any other failure (a directory that
cannot be created, a full disk) means a miss. The cache is POSIX-only;
elsewhere every lookup misses.

Deliberately light on imports: the table cache is opened at every start.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable
from typing import BinaryIO

from .errors import CacheError

_POSIX = (os.name == "posix" and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW")
          and os.open in os.supports_dir_fd)

#: Temporary files are named ``.tmp-`` + 16 hex digits + the final name's suffix.
TMP_PREFIX = ".tmp-"

#: Temporary files older than this (seconds) were left by a crash: removed.
STALE_TMP_S = 3600


def cache_dir() -> str:
    """The per-user cache directory."""
    d = os.environ.get("SEG_CACHE_DIR")
    if d:
        return d
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative path is to be ignored
        return os.path.join(xdg, "seg")
    return os.path.join(os.path.expanduser("~"), ".cache", "seg")


def unsafe(st: os.stat_result) -> str | None:
    """Why a file or directory with this status must not be trusted, or None."""
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        return f"writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def open_dir(create: bool) -> int | None:
    """A file descriptor of the verified cache directory, or None to skip the
    cache. Raises CacheError when $SEG_CACHE_DIR names an unsafe directory."""
    if not _POSIX:
        return None
    named = bool(os.environ.get("SEG_CACHE_DIR"))
    d = cache_dir()
    if not named and not os.path.isabs(d):  # no home directory to put it in: never one under the working directory
        return None
    created = False
    if create:
        try:
            os.makedirs(d, mode=0o700)
            created = True
        except FileExistsError:
            pass
        except (OSError, ValueError):  # cannot be created (ValueError: a NUL in the name)
            return None
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        if named and os.path.exists(d):
            raise CacheError(f"cache directory {d} (SEG_CACHE_DIR) is not a directory") from None
        return None
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if created and st.st_uid == os.geteuid():
            os.fchmod(fd, 0o700)  # whatever the umask left
            st = os.fstat(fd)
        why = unsafe(st)
    except OSError:
        why = "cannot be checked"
    if why is None:
        return fd
    os.close(fd)
    if named:
        raise CacheError(f"unsafe cache directory {d} (SEG_CACHE_DIR): {why}; "
                         f"use a private directory (chmod 700) or unset SEG_CACHE_DIR")
    return None


def open_file(dfd: int, name: str) -> tuple[BinaryIO, int] | None:
    """(the file, its size) of a safe regular file in the directory, opened
    for reading without following links; None if there is none or it is not
    safe. Marks it recently used, so pruning takes it last."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and unsafe(st) is None:  # a directory there is no file of ours
            try:
                os.utime(fd)
            except (OSError, NotImplementedError):
                pass
            return open(fd, "rb"), st.st_size
    except OSError:
        pass
    os.close(fd)
    return None


def write_file(dfd: int, name: str, pieces: Iterable[bytes]) -> bool:
    """Writes the pieces as the file `name`: under a temporary name, mode
    0600, then renamed into place. Returns whether it was written; failures
    are not errors."""
    suffix = os.path.splitext(name)[1]
    tmp: str | None = f"{TMP_PREFIX}{os.urandom(8).hex()}{suffix}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
    except OSError:
        return False
    try:
        with open(fd, "wb") as f:
            os.fchmod(fd, 0o600)
            for piece in pieces:
                f.write(piece)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        tmp = None
        return True
    except OSError:
        return False
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass


def prune(dfd: int, keep: str, names: re.Pattern, max_files: int, also: re.Pattern | None = None) -> None:
    """Keeps the `max_files` most recently used files whose names match
    `names` (`keep` among them); removes the files `also` matches and the
    temporary files with the same suffix as `keep` left by a crash. Only
    those names are ever touched."""
    try:
        with os.scandir(dfd) as entries:
            listing = [(e.name, e.stat(follow_symlinks=False).st_mtime) for e in entries]
    except OSError:
        return
    now = time.time()
    tmp = re.compile(re.escape(TMP_PREFIX) + r"[0-9a-f]{16}" + re.escape(os.path.splitext(keep)[1]))
    files = sorted(((mtime, name) for name, mtime in listing if names.fullmatch(name) and name != keep),
                   reverse=True)
    doomed = [name for _, name in files[max_files - 1:]]
    doomed += [name for name, mtime in listing
               if (also is not None and also.fullmatch(name)) or (tmp.fullmatch(name) and now - mtime > STALE_TMP_S)]
    for name in doomed:
        try:
            os.unlink(name, dir_fd=dfd)
        except OSError:
            pass
