"""One bot per database: the second `run` is refused, naming the first; the lock goes with the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storage.lock import AlreadyRunning, RunLock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from storage.lock import RunLock
    RunLock(Path(sys.argv[1])).acquire()
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    """
)


def test_a_second_holder_in_another_process_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    db = tmp_path / "data" / "lw.sqlite3"
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning) as refused:
            RunLock(db).acquire()
        assert f"pid {first.pid}" in str(refused.value)
    finally:
        assert first.stdin is not None
        first.stdin.close()
        first.wait(timeout=60)
    # The process is gone, and its lock with it: no stale file to clear by hand.
    with RunLock(db):
        pass


def test_released_lock_can_be_taken_again_in_the_same_process(tmp_path: Path) -> None:
    db = tmp_path / "lw.sqlite3"
    lock = RunLock(db).acquire()
    with pytest.raises(AlreadyRunning):
        RunLock(db).acquire()  # flock locks per open file: a second open in one process is refused too
    lock.release()
    RunLock(db).acquire().release()
