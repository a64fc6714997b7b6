"""`leopard-watch station add|list|remove|import`: stations from the terminal, validated as /station add is,
and `import --station` that refuses an unknown station before it loads the model."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import Settings
from bot.geo import Point
from bot.places import Station, Stations
from storage.db import Database


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment's settings file whose data directory does not exist yet."""
    for key in [k for k in os.environ if k.startswith("LW_")]:
        monkeypatch.delenv(key)
    path = tmp_path / ".env"
    path.write_text(f"LW_DATA_DIR={tmp_path / 'data'}\nLW_ADMIN_IDS=1\n")
    return path


def station(env: Path, *argv: str) -> int:
    return main(["--env-file", str(env), "station", *argv])


def stored(env: Path) -> dict[str, Station]:
    async def read() -> dict[str, Station]:
        async with Database(Settings.load(env).database) as db:
            return {s.code: s for s in await Stations(db).all()}

    return asyncio.run(read())


def test_add_creates_the_database_in_the_data_directory_says_so_once_and_stores_the_station(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = env.parent / "data" / "leopard-watch.sqlite3"
    assert station(env, "add", "UST-04", "43.21", "51.87", "Spring", "area=UST") == 0
    out = capsys.readouterr()
    assert database.is_file()
    assert f"created the database {database}" in out.err
    assert "UST-04" in out.out and "43.21000, 51.87000" in out.out and "UST" in out.out
    # Typed as a ranger types it, with a comma decimal: the same station, updated, and no second notice.
    assert station(env, "add", "уст-04", "43,22", "51,88", "Big", "spring") == 0
    out = capsys.readouterr()
    assert "created the database" not in out.err and "updated" in out.out
    assert stored(env) == {"UST-04": Station("UST-04", "Big spring", Point(43.22, 51.88), "UST")}


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["add", "X", "43.2", "51.8"], "bad station code 'X'"),
        (["add", "UST-04", "north", "51.8"], "'north' is not a latitude"),
        (["add", "UST-04", "95", "51.8"], "Latitude 95 is outside"),
        (["add", "UST-04", "43.2", "51.8", "area=<b>"], "area"),
        (["add", "UST-04", "43.2", "51.8", "area=A", "area=B"], "one area"),
        (["add", "UST-04", "43.2", "51.8", "x" * 101], "100 characters"),
    ],
)
def test_bad_arguments_are_usage_errors_in_one_sentence_and_nothing_is_written(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert station(env, *argv) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (env.parent / "data").exists()  # refused before the database was opened


def test_swapped_and_out_of_region_coordinates_are_refused_unless_forced(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert station(env, "add", "UST-04", "51.87", "43.21") == 1
    err = capsys.readouterr().err
    assert "swapped" in err and "43.21, 51.87" in err and "--force" in err
    assert station(env, "add", "FAR-01", "10", "10") == 1
    err = capsys.readouterr().err
    assert "outside" in err and "LW_REGION" in err and "--force" in err
    assert not (env.parent / "data").exists()
    assert station(env, "add", "FAR-01", "10", "10", "--force") == 0
    assert set(stored(env)) == {"FAR-01"}


def test_list_prints_csv_that_import_takes_back_and_never_creates_a_database(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert station(env, "list") == 1
    assert "no database" in capsys.readouterr().err
    assert not (env.parent / "data").exists()
    assert station(env, "add", "UST-04", "43.21", "51.87", "Spring, east", "area=UST") == 0
    assert station(env, "add", "KZS-01", "43.5", "52.1") == 0
    capsys.readouterr()
    assert station(env, "list") == 0
    listing = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(listing)))
    assert [r["code"] for r in rows] == ["KZS-01", "UST-04"]
    assert rows[1] == {
        "code": "UST-04",
        "lat": "43.21",
        "lon": "51.87",
        "name": "Spring, east",
        "area": "UST",
    }
    # The listing is an import file: a second deployment gets the same stations.
    other = tmp_path / "other.env"
    other.write_text(f"LW_DATA_DIR={tmp_path / 'other'}\n")
    (tmp_path / "list.csv").write_text(listing)
    assert station(other, "import", str(tmp_path / "list.csv")) == 0
    assert stored(other) == stored(env)


def test_import_reports_each_row_and_writes_nothing_when_one_row_is_wrong(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = "code,lat,lon,name,area\nUST-04,43.21,51.87,Spring,UST\nKZS-01,43.5,52.1,,\n"
    bad = good + "KZS-02,52.1,43.5,Swapped,\nX,43.5,52.1,,\nUST-04,43.3,51.9,Twice,\nKZS-03,43.4,52.0\n"
    path = tmp_path / "stations.csv"
    path.write_text(bad)
    assert station(env, "import", str(path)) == 1
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 6, lines
    assert lines[0].startswith("line 2: UST-04") and lines[1].startswith("line 3: KZS-01")
    assert "swapped" in lines[2] and "bad station code" in lines[3] and "line 2" in lines[4]
    assert "5 columns" in lines[5]
    assert "nothing imported" in out.err and "2 of 6" in out.err
    assert not (env.parent / "data").exists()
    path.write_text(good)
    assert station(env, "import", str(path)) == 0
    assert "2 stations imported" in capsys.readouterr().out
    assert set(stored(env)) == {"UST-04", "KZS-01"}
    assert station(env, "import", str(tmp_path / "missing.csv")) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_remove_deletes_a_station_added_by_mistake_but_not_one_with_sightings(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert station(env, "add", "UST-04", "43.21", "51.87") == 0
    assert station(env, "add", "UST-05", "43.22", "51.88") == 0
    assert station(env, "remove", "UST-99") == 1
    assert "no station UST-99" in capsys.readouterr().err

    async def sighting() -> None:
        async with Database(Settings.load(env).database) as db:
            await db.execute(
                "INSERT INTO photos (sha256, path, size, created_at) VALUES ('ab', 'x.jpg', 1, '2025-06-01')"
            )
            await db.execute(
                """INSERT INTO sightings (photo_sha256, taken_at, received_at, lat, lon, label, score,
                                          is_leopard, station_code, status)
                   VALUES ('ab', '2025-06-01', '2025-06-01', 43.21, 51.87, 'x', 0.1, 0, 'UST-04', 'other')"""
            )

    asyncio.run(sighting())
    capsys.readouterr()
    assert station(env, "remove", "UST-04") == 1
    assert "1 sighting" in capsys.readouterr().err
    assert station(env, "remove", "уст-05") == 0
    assert set(stored(env)) == {"UST-04"}


def test_import_of_an_unknown_station_stops_before_the_model_loads(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.cli.sd_import as sd_import

    def no_model(*_: object, **__: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(sd_import, "DetectorPool", no_model)
    card = tmp_path / "card"
    card.mkdir()
    argv = ["--env-file", str(env), "import", str(card), "--station", "UST-04", "--workers", "1"]
    assert main(argv) == 2
    out = capsys.readouterr()
    assert "unknown station UST-04" in out.err and "leopard-watch station add UST-04" in out.err
    assert not (env.parent / "data").exists()
    assert station(env, "add", "UST-04", "43.21", "51.87") == 0
    assert station(env, "add", "UST-05", "43.22", "51.88") == 0
    capsys.readouterr()
    argv[-3] = "уст-04"  # typed on a Cyrillic keyboard: the check must not refuse what the import takes
    assert main(argv) == 1  # the model was reached: the stand-in's error, told as one sentence
    assert "the model was loaded" in capsys.readouterr().err
