"""An LW_MAILBOXES_FILE written to disk with the permissions a test asks for."""

from __future__ import annotations

from pathlib import Path


def mailboxes_file(folder: Path, body: str, mode: int = 0o600) -> Path:
    path = folder / "mailboxes.toml"
    path.write_text(body, encoding="utf-8")
    path.chmod(mode)
    return path
