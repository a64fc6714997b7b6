"""Positions in map links, read in the axis order of the service that wrote them.

Yandex and 2GIS write longitude first, everyone else latitude first; within one service the dropped pin
comes before the map's centre. Links that hold only a key to the service's servers (short links, place
ids) are refused rather than guessed from.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from bot.geo.points import CoordinateError, Point
from bot.geo.redaction import LINK_TAIL

# Rules are (pattern, longitude first), the dropped pin before the map's centre.
_U = r"\s*([-+]?[0-9]{1,3}(?:\.[0-9]+)?)(?![0-9])"
_LATLON_RULES = (
    (rf"!3d{_U}!4d{_U}", False),  # Google's pin; "/@lat,lon" is only the viewport centre
    (rf"[?&#](?:q|query|ll|sll|center|daddr|destination|cp|map)=(?:loc:)?{_U}\s*[,~]{_U}", False),
    (rf"/@{_U},{_U}", False),
    (rf"/(?:place|search|dir|l)/{_U}\s*,{_U}", False),  # "/l/": HERE's shared place
    (rf"#map=[0-9.]+/{_U}/{_U}", False),
    (rf"^geo:{_U},{_U}", False),
    (rf"^(?=.*?[?&#]m?lat={_U})(?=.*?[?&#]m?(?:lon|lng)={_U})", False),  # OSM's pin, OsmAnd: either order
)
# Yandex writes longitude first; pt/whatshere is the dropped pin, ll only the map centre.
_YANDEX_RULES = ((rf"[?&#](?:pt|whatshere\[point\])={_U},{_U}", True), (rf"[?&#]ll={_U},{_U}", True))
# 2GIS writes longitude first everywhere: the place in the path (/geo/, /firm/<id>/, a route's last point,
# dgis://…/to/), then the map's centre ("m=lon,lat/zoom", "center/lon,lat").
_DGIS_RULES = (
    (rf"[/=](?:geo|firm|station|center|to|points)/(?:[^?#]*[/|~;])?{_U},{_U}(?=$|[/;|~?#&])", True),
    (rf"/{_U},{_U}/zoom/", True),
    (rf"[?&#]m={_U},{_U}", True),
)
_HOSTS = (
    (r"(?:[\w-]+\.)*yandex\.[a-z.]+", _YANDEX_RULES),
    (r"(?:[\w-]+\.)*2gis\.[a-z.]+", _DGIS_RULES),
    (r".*", _LATLON_RULES),
)
_HOST_RULES = tuple(
    (re.compile(host), tuple((re.compile(p, re.I), lon_first) for p, lon_first in rules))
    for host, rules in _HOSTS
)
# Links that carry a key to the service's servers instead of a position (short links, place ids): only
# the service can say where they point, so they are refused rather than guessed from. (host, path)
_OPAQUE = tuple(
    (re.compile(host), re.compile(path, re.I))
    for host, path in (
        (r"go\.2gis\.com", r""),
        (r"(?:[\w-]+\.)*2gis\.[a-z.]+", r"(?:/[\w-]+)?/(?:geo|firm)/[0-9]{5,}"),
        (r"maps\.app\.goo\.gl", r""),
        (r"goo\.gl", r"/maps"),
        (r"(?:[\w-]+\.)*yandex\.[a-z.]+", r"/maps/-/"),
    )
)


def read_link(url: str) -> Point | CoordinateError | None:
    """The position a map link holds; CoordinateError "link" for one that only its service can resolve."""
    u = unquote_plus(url.rstrip(LINK_TAIL))
    rest = re.sub(r"^[a-z][a-z0-9+.\-]*:(?://)?", "", u, flags=re.I)
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].lower()
    rules = next(r for h, r in _HOST_RULES if h.fullmatch(host))
    for rule, lon_first in rules:
        if m := rule.search(u):
            try:
                return Point(float(m[2]), float(m[1])) if lon_first else Point(float(m[1]), float(m[2]))
            except CoordinateError as exc:
                return exc
    if any(h.fullmatch(host) and p.match(rest, len(host)) for h, p in _OPAQUE):
        return CoordinateError("The link holds no coordinates; only its map service can resolve it", "link")
    return None
