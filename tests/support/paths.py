"""Where the tests find things: the repository, its sample photos and test data, and ../shared."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
SAMPLES = REPO / "bot" / "samples"  # the photos the package ships (demo, doctor, warm-up)
DATA = TESTS / "data"  # test assets committed here (camera files, clips, protected areas)
STANDARDS = TESTS / "standards"  # the standards' own schemas the exports are validated against
SHARED = REPO.parent / "shared"  # the workplace's real files: eval photos, samples, standards
EVAL = SHARED / "eval"
