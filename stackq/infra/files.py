"""Files written whole or not at all: a temporary name beside the target, renamed when complete."""

import contextlib
import os
import tempfile

# mkstemp makes files only their owner may read; a report gets what open() would give it.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def written_whole(path):
    """A binary file that appears at `path` only once the block has finished without error.

    A crash or an error leaves the previous file (if any) untouched and no half-written one.
    """
    folder, name = os.path.split(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        os.chmod(temp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
