"""Files written atomically and only when their content changes: that is what makes re-runs `unchanged`."""
import os
import shutil
import tempfile
from pathlib import Path

from infra.ensure import Outcome, Removal


def ensure_private_dir(path: Path) -> Outcome:
    """A directory only its owner can enter (0700), parents included."""
    if path.is_dir():
        if path.stat().st_mode & 0o777 == 0o700:
            return "unchanged"
        path.chmod(0o700)
        return "updated"
    path.mkdir(parents=True, mode=0o700)
    path.chmod(0o700)  # mkdir's mode is filtered by the umask
    return "created"


def ensure_file(path: Path, data: bytes, *, mode: int = 0o600) -> Outcome:
    """`path` holds exactly `data` with `mode`; written via a temporary file and a rename, never half."""
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = None
    if current == data:
        if path.stat().st_mode & 0o777 == mode:
            return "unchanged"
        path.chmod(mode)
        return "updated"
    write_atomic(path, data, mode=mode)
    return "created" if current is None else "updated"


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600, so a secret is never readable by others, even for a moment
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_exclusive(path: Path, data: bytes, *, mode: int = 0o600) -> bool:
    """Create `path` whole with `data` unless it exists (then leave it): False when another writer was first."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.link(tmp, path)  # unlike a rename, a link never replaces what another writer put there
        return True
    except FileExistsError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)


def remove_path(path: Path) -> Removal:
    """Delete a file or a whole directory; `absent` when there was nothing."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
        return "deleted"
    try:
        path.unlink()
    except FileNotFoundError:
        return "absent"
    return "deleted"
