"""The ru/kk/en gettext catalogs: same keys, same placeholders, every key the code uses exists."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from functools import cache

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.text.i18n import LOCALE_DIR, pick_language, t
from tests.support.paths import REPO

ROOT = REPO
TRANSLATIONS = ("ru", "kk")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")
# The literal key passed as t()'s second argument, and the fixed head of an f-string key.
LITERAL_KEY = re.compile(r'(?<![\w.])t\(\s*[^,]+,\s*"([a-z_.]+[a-z_ ]*)"')
FSTRING_KEY = re.compile(r'(?<![\w.])t\(\s*[^,]+,\s*f"([a-z_.]+[a-z_ ]*)\{')


@cache
def read_catalog(lang: str) -> Catalog:
    # No locale argument: the catalog's locale then comes from its own "Language:" header.
    with (LOCALE_DIR / f"{lang}.po").open("rb") as fh:
        return read_po(fh)


@cache
def messages(lang: str) -> dict[str, str]:
    return {str(m.id): m.string for m in read_catalog(lang) if m.id}


def placeholders(text: str) -> set[str]:
    """Names used in {…} fields; raises ValueError on a malformed brace."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    return names


def test_catalog_headers_name_their_language() -> None:
    for lang in ("en", *TRANSLATIONS):
        assert str(read_catalog(lang).locale) == lang


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_translation_has_exactly_the_english_keys(lang: str) -> None:
    en, other = messages("en"), messages(lang)
    assert sorted(set(en) - set(other)) == [], f"missing in {lang}.po"
    assert sorted(set(other) - set(en)) == [], f"keys in {lang}.po that en.po lacks"
    empty = [k for k, v in other.items() if not isinstance(v, str) or not v.strip()]
    assert empty == [], f"empty msgstr in {lang}.po"
    fuzzy = [str(m.id) for m in read_catalog(lang) if m.id and m.fuzzy]
    assert fuzzy == [], f"fuzzy entries in {lang}.po"


def test_placeholders_tags_and_commands_match_english() -> None:
    en = messages("en")
    for lang in TRANSLATIONS:
        other = messages(lang)
        for key, english in en.items():
            text = other.get(key)
            if text is None:
                continue  # reported by test_translation_has_exactly_the_english_keys
            names = placeholders(english)
            assert placeholders(text) == names, f"{lang}:{key} placeholders"
            text.format(**dict.fromkeys(names, "x"))  # formats cleanly with the English arguments
            assert sorted(HTML_TAG.findall(text)) == sorted(HTML_TAG.findall(english)), f"{lang}:{key} tags"
            assert set(COMMAND.findall(text)) == set(COMMAND.findall(english)), f"{lang}:{key} commands"


def _scope(func: ast.AST) -> dict[str, list[ast.expr]]:
    """What each local name of a function may hold: assignments, list appends, loop sources."""
    scope: dict[str, list[ast.expr]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    scope.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.comprehension | ast.For) and isinstance(node.target, ast.Name):
            scope.setdefault(node.target.id, []).append(node.iter)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.args
        ):
            scope.setdefault(node.func.value.id, []).append(node.args[0])
    return scope


def _key_parts(
    node: ast.expr, scope: dict[str, list[ast.expr]], depth: int = 0
) -> Iterator[tuple[str, bool]]:
    """(key, False) for a literal key, (prefix, True) for the fixed head of a computed one."""
    if depth > 4:
        return
    match node:
        case ast.Constant(value=str() as key):
            yield key, False
        case ast.JoinedStr(values=[ast.Constant(value=str() as head), *_]):
            yield head, True
        case ast.BinOp(op=ast.Add(), left=ast.Constant(value=str() as head)):
            yield head, True
        case ast.IfExp(body=body, orelse=orelse):
            yield from _key_parts(body, scope, depth + 1)
            yield from _key_parts(orelse, scope, depth + 1)
        case ast.BoolOp(values=values) | ast.List(elts=values) | ast.Tuple(elts=values):
            for value in values:
                yield from _key_parts(value, scope, depth + 1)
        case ast.Name(id=name):
            for value in scope.get(name, []):
                yield from _key_parts(value, scope, depth + 1)


def used_keys() -> dict[str, set[str]]:
    """{"key": {...}, "prefix": {...}} from t(lang, KEY, …) calls in bot/ and handlers/."""
    found: dict[str, set[str]] = {"key": set(), "prefix": set()}
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]):
        source = path.read_text(encoding="utf-8")
        found["key"].update(LITERAL_KEY.findall(source))
        found["prefix"].update(FSTRING_KEY.findall(source))
        tree = ast.parse(source, filename=str(path))
        funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        defs = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        top = ast.Module(body=[s for s in tree.body if not isinstance(s, defs)], type_ignores=[])
        for unit in [top, *funcs]:
            scope = _scope(unit)
            for node in ast.walk(unit):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "t"
                    and len(node.args) >= 2
                ):
                    for text, is_prefix in _key_parts(node.args[1], scope):
                        found["prefix" if is_prefix else "key"].add(text)
    return found


def test_every_key_used_in_the_code_exists() -> None:
    en = messages("en")
    used = used_keys()
    assert {"receipt.leopard", "alert.title", "error.download"} <= used["key"], (
        "the key scan found too little"
    )
    assert "review.done." in used["prefix"]
    assert sorted(used["key"] - set(en)) == []
    assert sorted(p for p in used["prefix"] if not any(k.startswith(p) for k in en)) == []


def test_messages_render_in_russian_and_kazakh() -> None:
    english = t("en", "receipt.leopard", id=1, score="0.9")
    russian = t("ru", "receipt.leopard", id=1, score="0.9")
    kazakh = t("kk", "receipt.leopard", id=1, score="0.9")
    assert "#1" in russian and "0.9" in russian and CYRILLIC.search(russian), russian
    assert "#1" in kazakh and "0.9" in kazakh and CYRILLIC.search(kazakh), kazakh
    assert len({english, russian, kazakh}) == 3
    assert any(KAZAKH_LETTERS.search(v) for v in messages("kk").values())
    assert "Леопард" in t("ru", "alert.title", label=t("ru", "label.leopard"), score="0.91", id=7)
    assert "Қабылан" in t("kk", "alert.title", label=t("kk", "label.leopard"), score="0.91", id=7)


@pytest.mark.parametrize(
    ("code", "lang"), [("ru-RU", "ru"), ("kk", "kk"), ("en-GB", "en"), ("de", "ru"), (None, "ru")]
)
def test_pick_language(code: str | None, lang: str) -> None:
    assert pick_language(code) == lang
