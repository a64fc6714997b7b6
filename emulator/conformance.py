"""Checks Bot API traffic against the official spec, so the emulator cannot drift from real Telegram.

spec/api.json is a machine-readable copy of Bot API 10.1 (see spec/SOURCES.md). The emulator checks every
request it serves (the method and parameters the client sent, the result or error it answers) and keeps
what these checks report in `emu.spec_violations`; the tests' `emu` fixture fails on any.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .params import Upload

SPEC_PATH = Path(__file__).with_name("spec") / "api.json"

# Subtypes of union types (ChatMember, MessageOrigin, BotCommandScope, ...) name the value of their
# discriminating field only in prose: 'always "creator"', 'always “creator”' or 'must be default'.
_TAG_FIELDS = ("type", "status", "source")
_ERROR_KEYS = frozenset({"ok", "error_code", "description", "parameters"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "Integer": _is_int,
    "Float": _is_float,  # JSON has one number type: 52.0 may well arrive as 52
    "String": lambda value: isinstance(value, str),
    "Boolean": lambda value: isinstance(value, bool),
    "True": lambda value: value is True,
}


def _kind(value: Any) -> str:
    """The JSON type of a value, in the spec's words, for violation messages."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    names = {float: "Float", str: "String", list: "Array", dict: "object", type(None): "null"}
    return "file upload" if isinstance(value, Upload) else names.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class Field:
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class Shape:
    """The fields of one object type or the parameters of one method, indexed once at load time."""

    name: str
    fields: Mapping[str, Field]
    required: tuple[str, ...]

    @classmethod
    def of(cls, name: str, raw_fields: Iterable[Mapping[str, Any]]) -> Shape:
        fields = {f["name"]: Field(tuple(f["types"]), bool(f["required"])) for f in raw_fields}
        return cls(name, fields, tuple(key for key, field in fields.items() if field.required))


@dataclass(frozen=True)
class Method:
    shape: Shape
    returns: tuple[str, ...]


def _tag(raw_type: Mapping[str, Any]) -> tuple[str, str] | None:
    for field in raw_type.get("fields", []):
        if field["name"] not in _TAG_FIELDS:
            continue
        text: str = field["description"]
        for opener, closer in (("always “", "”"), ('always "', '"')):
            start = text.find(opener)
            if start >= 0:
                start += len(opener)
                end = text.find(closer, start)
                if end > start:
                    return field["name"], text[start:end]
        marker = text.find("must be ")
        if marker >= 0:
            words = text[marker + len("must be ") :].split()
            if words:
                return field["name"], words[0].strip(".,;")
    return None


def _attach_names(values: Iterable[Any]) -> set[str]:
    """Multipart part names that some value references as attach://<name> (uploads of InputMedia)."""
    names: set[str] = set()
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str) and value.startswith("attach://"):
            names.add(value.removeprefix("attach://"))
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return names


def _form_decoded(types: tuple[str, ...], value: Any) -> Any:
    # Query strings and multipart forms carry every value as text; clients JSON-encode the rest
    # (PTB does), and the emulator's params.py only decodes the keys it uses.
    if not isinstance(value, str) or "String" in types:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class Spec:
    """One loaded Bot API spec: method and type tables plus the recursive validator."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = raw["version"]
        # Telegram matches method names case-insensitively, and so does the emulator.
        self.methods: dict[str, Method] = {
            name.lower(): Method(Shape.of(name, m.get("fields", [])), tuple(m["returns"]))
            for name, m in raw["methods"].items()
        }
        self.objects: dict[str, Shape] = {}
        self.unions: dict[str, tuple[str, ...]] = {}
        self.tags: dict[str, tuple[str, str]] = {}  # subtype -> (discriminating field, its value)
        for name, t in raw["types"].items():
            if "subtypes" in t:
                self.unions[name] = tuple(t["subtypes"])
                continue
            # Types without fields (VideoChatStarted, CallbackGame, ...) are empty objects.
            self.objects[name] = Shape.of(name, t.get("fields", []))
            tag = _tag(t) if t.get("subtype_of") else None
            if tag is not None:
                self.tags[name] = tag

    def method(self, name: str) -> Method | None:
        return self.methods.get(name.lower())

    # --- what the emulator sees and answers ---------------------------------------------------

    def check_call(self, method: str, params: Mapping[str, Any]) -> list[str]:
        entry = self.method(method)
        if entry is None:
            return [f"{method}: not a method of {self.version}"]
        shape = entry.shape
        attached = _attach_names(params.values())
        found: list[str] = []
        for key, value in params.items():
            field = shape.fields.get(key)
            if field is None:
                if key not in attached:
                    found.append(f"{shape.name}: parameter {key!r} is not in {self.version}")
                continue
            found += self.check_value(field.types, _form_decoded(field.types, value), f"{shape.name}({key})")
        missing = [key for key in shape.required if key not in params]
        found += [f"{shape.name}: required parameter {key!r} missing" for key in missing]
        return found

    def check_result(self, method: str, result: Any) -> list[str]:
        entry = self.method(method)
        if entry is None:
            return []  # check_call has already said that the method does not exist
        return self.check_value(entry.returns, result, f"{entry.shape.name} result")

    def check_error(self, method: str, payload: Mapping[str, Any]) -> list[str]:
        where = f"{method} error"
        found = [f"{where}: unknown key {key!r}" for key in payload if key not in _ERROR_KEYS]
        if payload.get("ok") is not False:
            found.append(f"{where}: ok must be false, got {payload.get('ok')!r}")
        if not _is_int(payload.get("error_code")):
            found.append(f"{where}: error_code must be an Integer, got {_kind(payload.get('error_code'))}")
        if not isinstance(payload.get("description"), str):
            found.append(f"{where}: description must be a String, got {_kind(payload.get('description'))}")
        if "parameters" in payload:
            found += self.check_object("ResponseParameters", payload["parameters"], f"{where}.parameters")
        return found

    # --- the validator ------------------------------------------------------------------------

    def check_object(self, type_name: str, value: Any, path: str | None = None) -> list[str]:
        return self._check_type(type_name, value, path or type_name)

    def check_value(self, types: tuple[str, ...], value: Any, path: str) -> list[str]:
        """Violations of `value` against a field's type list (several entries = any one of them)."""
        if len(types) == 1:
            return self._check_type(types[0], value, path)
        attempts = [(t, self._check_type(t, value, path)) for t in types]
        if any(not found for _, found in attempts):
            return []
        if isinstance(value, dict):
            # Report against the object type the value came closest to, not against all of them.
            shaped = [found for t, found in attempts if t in self.objects or t in self.unions]
            if shaped:
                return min(shaped, key=len)
        return [f"{path}: expected {' or '.join(types)}, got {_kind(value)}"]

    def _check_type(self, type_name: str, value: Any, path: str) -> list[str]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {_kind(value)}"]
            inner = type_name.removeprefix("Array of ")
            found: list[str] = []
            for i, item in enumerate(value):
                found += self._check_type(inner, item, f"{path}[{i}]")
            return found
        primitive = _PRIMITIVES.get(type_name)
        if primitive is not None:
            return [] if primitive(value) else [f"{path}: expected {type_name}, got {_kind(value)}"]
        if type_name == "InputFile":
            ok = isinstance(value, Upload)
            return [] if ok else [f"{path}: expected a file upload, got {_kind(value)}"]
        if type_name in self.unions:
            return self._check_union(type_name, value, path)
        shape = self.objects.get(type_name)
        if shape is None:
            return [f"{path}: type {type_name} is not in {self.version}"]
        return self._check_fields(shape, value, path)

    def _check_union(self, type_name: str, value: Any, path: str) -> list[str]:
        subtypes = self.unions[type_name]
        if isinstance(value, dict):
            tagged = [s for s in subtypes if s in self.tags]
            matching = tuple(s for s in tagged if value.get(self.tags[s][0]) == self.tags[s][1])
            if matching:
                return self.check_value(matching, value, path)
            if tagged and len(tagged) == len(subtypes):
                key = self.tags[tagged[0]][0]
                names = ", ".join(subtypes)
                return [f"{path}: {type_name} with {key}={value.get(key)!r} matches none of {names}"]
        # Untagged unions (MaybeInaccessibleMessage, RichText): whichever subtype fits best.
        return self.check_value(subtypes, value, path)

    def _check_fields(self, shape: Shape, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected {shape.name}, got {_kind(value)}"]
        found: list[str] = []
        for key, item in value.items():
            field = shape.fields.get(key)
            if field is None:
                found.append(f"{path}.{key}: {shape.name} has no field {key!r}")
            else:
                found += self.check_value(field.types, item, f"{path}.{key}")
        missing = [key for key in shape.required if key not in value]
        found += [f"{path}: {shape.name} lacks required field {key!r}" for key in missing]
        return found


@functools.cache
def spec() -> Spec:
    """The vendored spec, loaded and indexed once per process."""
    return Spec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


def check_call(method: str, params: Mapping[str, Any]) -> list[str]:
    """The method exists and takes every parameter passed; required parameters are present."""
    return spec().check_call(method, params)


def check_result(method: str, result: Any) -> list[str]:
    """The result matches what the spec says the method returns."""
    return spec().check_result(method, result)


def check_error(method: str, payload: Mapping[str, Any]) -> list[str]:
    """An error reply is {"ok": false, "error_code", "description"[, "parameters": ResponseParameters]}."""
    return spec().check_error(method, payload)


def check_object(type_name: str, value: Any, path: str | None = None) -> list[str]:
    """Unknown fields, missing required fields and wrong JSON types of one object, recursively."""
    return spec().check_object(type_name, value, path)
