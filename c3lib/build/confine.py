"""Confine a kernel's writes to its private folders (Linux Landlock).

A notebook run by ``c3 build`` runs as the user who builds, and could otherwise write
anywhere that user can: over another target's case study, beside the sources. Before a
kernel runs any code (:func:`c3lib.build.kernels.launch_ipc_kernel`), it calls
:func:`confine_writes` with its working folder and its socket folder: from then on the
kernel, every thread it starts and every process it spawns can create, change, rename or
remove files only beneath those folders (and write to ``/dev/null`` and ``/dev/shm``).
Reading is not restricted. The restriction is the kernel's Landlock domain: it holds for
root too, and nothing in the process can lift it.

Landlock is in Linux since 5.13 (file truncation since 6.2); where it is missing
(another OS, an older kernel, a kernel built without it) :func:`confine_writes` returns
false and the kernel runs unconfined, as a process of the building user. ``C3_CONFINE=0``
turns confinement off.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["confine_writes", "landlock_abi", "ENABLED"]

ENABLED = os.environ.get("C3_CONFINE", "1") != "0"

# <linux/landlock.h>
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_WRITE_FILE = 1 << 1
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13  # ABI 2: linking or renaming across folders
_TRUNCATE = 1 << 14  # ABI 3
_FILE_WRITES = _WRITE_FILE | _TRUNCATE  # the rights a rule on a file (not a folder) may hold
# The same numbers on every architecture (added after the syscall tables were unified).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
DEVICE_WRITES = ("/dev/null", "/dev/shm")  # [paths] where a kernel may write besides its own


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args) -> int:
    """A raw system call; raises :class:`OSError` (with errno) when it fails."""
    result = _libc().syscall(number, *args)
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def landlock_abi() -> int:
    """The Landlock ABI version this system offers; 0 where there is none."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return _syscall(
            _SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _u32(_CREATE_RULESET_VERSION)
        )
    except (OSError, AttributeError):  # ENOSYS, EOPNOTSUPP (built without or disabled)
        return 0


def _u32(value: int) -> ctypes.c_uint32:
    return ctypes.c_uint32(value)


def _handled(abi: int) -> int:
    rights = (
        _WRITE_FILE
        | _REMOVE_DIR
        | _REMOVE_FILE
        | _MAKE_CHAR
        | _MAKE_DIR
        | _MAKE_REG
        | _MAKE_SOCK
        | _MAKE_FIFO
        | _MAKE_BLOCK
        | _MAKE_SYM
    )
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def confine_writes(folders: list[str], extra: tuple[str, ...] = DEVICE_WRITES) -> bool:
    """Let this process, and all it starts from now on, write only beneath ``folders``.

    Parameters
    ----------
    folders : list of str
        Folders (made already) beneath which files may still be created, written,
        renamed and removed.
    extra : tuple of str
        Further paths allowed where they exist (a file gets only write and truncate).

    Returns
    -------
    bool
        Whether the process is now confined; false where Landlock is unavailable or
        ``C3_CONFINE=0``. Raises :class:`OSError` if Landlock is there but a rule fails
        (never half-confined: the restriction is applied last, all at once).

    Notes
    -----
    Call it before the process starts threads: Landlock confines the calling thread and
    what it starts afterwards.
    """
    abi = landlock_abi() if ENABLED else 0
    if abi < 1:
        return False
    handled = _handled(abi)
    attr = _RulesetAttr(handled)
    size = ctypes.c_size_t(ctypes.sizeof(attr))
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, _u32(0))
    try:
        paths = [(p, True) for p in folders] + [(p, False) for p in extra if os.path.exists(p)]
        for path, required in paths:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rights = handled if os.path.isdir(path) else handled & _FILE_WRITES
                rule = _PathBeneathAttr(rights, fd)
                kind = ctypes.c_int(_RULE_PATH_BENEATH)
                _syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), kind, ctypes.byref(rule), _u32(0))
            except OSError:
                if required:
                    raise
            finally:
                os.close(fd)
        if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        _syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), _u32(0))
    finally:
        os.close(ruleset)
    return True
