"""JSON Schema compatibility as a pure check: can every document the writer accepts be read?

``check(reader, writer)`` lists why some document valid under ``writer`` may be invalid under
``reader`` (BACKWARD checks reader=new, writer=old; FORWARD the reverse). It compares the two
schemas keyword by keyword, as Confluent's registry does, rather than sampling documents:

- types: compatible (reader may …): accept more types; ``number`` for ``integer``; incompatible (rule): drop
  a type (TYPE_NARROWED)
- strings: compatible (reader may …): raise ``maxLength``, lower ``minLength``, drop ``pattern``;
  incompatible (rule): the reverse (MAX_LENGTH_…, MIN_LENGTH_…, PATTERN_…)
- numbers: compatible (reader may …): widen or drop bounds, a ``multipleOf`` dividing the writer's;
  incompatible (rule): tighten them (MAXIMUM_…, MINIMUM_…, MULTIPLE_OF_…)
- enum/const: compatible (reader may …): keep every writer value; incompatible (rule): drop one or add the
  keyword (ENUM_…, CONST_…)
- objects, open content model (``additionalProperties`` absent/true): compatible (reader may …): remove a
  property; add one with an empty schema; incompatible (rule): add a typed property
  (PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL)
- objects, closed content model (``additionalProperties: false``): compatible (reader may …): add a
  property; incompatible (rule): remove one (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL)
- partially open (typed ``additionalProperties``/``patternProperties``): compatible (reader may …):
  add/remove properties the extra schema covers; incompatible (rule): others (PROPERTY_…_NOT_COVERED…)
- required: compatible (reader may …): drop a name; add one that has a default; incompatible (rule): add one
  without default (REQUIRED_PROPERTY_ADDED)
- arrays: compatible (reader may …): relax ``items``, bounds, drop ``uniqueItems``; incompatible (rule):
  tighten them (ITEMS_…, UNIQUE_ITEMS_ADDED)
- combined: compatible (reader may …): more ``anyOf``/``oneOf`` branches, fewer ``allOf``,
  ``oneOf``→``anyOf``; incompatible (rule): fewer sum branches, more product branches, ``not`` added
  (SUM_TYPE_NARROWED, PRODUCT_TYPE_EXTENDED, NOT_TYPE_ADDED)

``$ref`` is resolved (local JSON pointers and referenced documents by name); a pair of schemas
already under comparison is not compared again, so recursive schemas terminate. Annotations
(``title``, ``description``, ``default``, ``examples``, ``$comment``, ``$id``) never matter.
"""

from __future__ import annotations

import re
from typing import Any

from odradek.registry.compatibility.result import Incompatibility
from odradek.registry.formats.json_schema import JsonForm

ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})


def check(reader: JsonForm, writer: JsonForm) -> list[Incompatibility]:
    return _Checker(reader, writer).compare(reader.schema, writer.schema, "#")


class _Checker:
    def __init__(self, reader: JsonForm, writer: JsonForm) -> None:
        self.reader = reader
        self.writer = writer
        self.seen: set[tuple[int, int]] = set()

    # --- $ref --------------------------------------------------------------------------------

    def _deref(self, schema: Any, form: JsonForm, depth: int = 0) -> Any:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 32:
            schema = _lookup(schema["$ref"], form) if schema["$ref"] else schema
            depth += 1
        return schema

    # --- the comparison ----------------------------------------------------------------------

    def compatible(self, reader: Any, writer: Any) -> bool:
        return not self.compare(reader, writer, "#")

    def compare(self, reader: Any, writer: Any, path: str) -> list[Incompatibility]:
        reader = _as_schema(self._deref(reader, self.reader))
        writer = _as_schema(self._deref(writer, self.writer))
        if reader is True or _is_empty(reader):
            return []
        if writer is False:
            return []
        if reader is False:
            return [Incompatibility("TYPE_NARROWED", path, "the reader accepts nothing")]
        if writer is True:
            writer = {}
        pair = (id(reader), id(writer))
        if pair in self.seen:
            return []
        self.seen.add(pair)
        try:
            return self._compare(reader, writer, path)
        finally:
            self.seen.discard(pair)

    def _compare(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        out: list[Incompatibility] = []
        combined = self._combined(reader, writer, path)
        if combined is not None:
            return combined
        reader_types = _types(reader)
        writer_types = _types(writer)
        lost = {
            t
            for t in writer_types
            if t not in reader_types and not (t == "integer" and "number" in reader_types)
        }
        if lost:
            out.append(
                Incompatibility(
                    "TYPE_NARROWED",
                    f"{path}/type",
                    f"the reader no longer accepts {sorted(lost)} (writer: {sorted(writer_types)})",
                )
            )
        shared = writer_types - lost
        if shared & {"string"}:
            out += _string(reader, writer, path)
        if shared & {"number", "integer"}:
            out += _number(reader, writer, path)
        if shared & {"object"}:
            out += self._object(reader, writer, path)
        if shared & {"array"}:
            out += self._array(reader, writer, path)
        out += _enum(reader, writer, path)
        if "not" in reader:
            if "not" not in writer:
                out.append(
                    Incompatibility("NOT_TYPE_ADDED", f"{path}/not", "the reader adds a 'not' constraint")
                )
            elif self.compare(writer["not"], reader["not"], f"{path}/not"):
                out.append(
                    Incompatibility("NOT_TYPE_EXTENDED", f"{path}/not", "the reader's 'not' excludes more")
                )
        return out

    # --- combined schemas --------------------------------------------------------------------

    def _combined(
        self, reader: dict[str, Any], writer: dict[str, Any], path: str
    ) -> list[Incompatibility] | None:
        r_sum = _sum(reader)
        w_sum = _sum(writer)
        r_all = reader.get("allOf")
        w_all = writer.get("allOf")
        if not (r_sum or w_sum or r_all or w_all):
            return None
        rest_r = {k: v for k, v in reader.items() if k not in ("anyOf", "oneOf", "allOf")}
        rest_w = {k: v for k, v in writer.items() if k not in ("anyOf", "oneOf", "allOf")}
        out: list[Incompatibility] = []
        if w_sum:
            # every writer alternative must be readable
            w_key, w_branches = w_sum
            for i, branch in enumerate(w_branches):
                merged = _merge(rest_w, self._deref(branch, self.writer))
                if r_sum:
                    r_key, r_branches = r_sum
                    if not any(self.compatible(_merge(rest_r, rb), merged) for rb in r_branches):
                        out.append(
                            Incompatibility(
                                "SUM_TYPE_NARROWED",
                                f"{path}/{w_key}/{i}",
                                f"no reader alternative accepts the writer's alternative {i}",
                            )
                        )
                else:
                    out += self.compare(
                        _merge(rest_r, {"allOf": r_all} if r_all else {}), merged, f"{path}/{w_key}/{i}"
                    )
            if r_sum and r_sum[0] == "oneOf" and w_key == "anyOf":
                out.append(Incompatibility("SUM_TYPE_NARROWED", f"{path}/oneOf", "anyOf became oneOf"))
        elif r_sum:
            r_key, r_branches = r_sum
            writer_merged = _merge(rest_w, {"allOf": w_all} if w_all else {})
            if not any(self.compatible(_merge(rest_r, rb), writer_merged) for rb in r_branches):
                out.append(
                    Incompatibility(
                        "SUM_TYPE_NARROWED",
                        f"{path}/{r_key}",
                        "no reader alternative accepts the writer's schema",
                    )
                )
        elif r_all:
            for j, branch in enumerate(r_all):
                candidates = [self._deref(wb, self.writer) for wb in (w_all or [])] + [rest_w]
                if not any(self.compatible(branch, _merge(rest_w, c)) for c in candidates):
                    out.append(
                        Incompatibility(
                            "PRODUCT_TYPE_EXTENDED",
                            f"{path}/allOf/{j}",
                            "the reader's allOf adds a constraint the writer lacks",
                        )
                    )
            out += self.compare(rest_r, writer if not w_all else rest_w, path) if rest_r else []
        else:
            assert w_all is not None
            if not any(self.compatible(reader, _merge(rest_w, self._deref(b, self.writer))) for b in w_all):
                out += self.compare(reader, rest_w, path)
        return out

    # --- objects and arrays ------------------------------------------------------------------

    def _object(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        out: list[Incompatibility] = []
        r_props = reader.get("properties", {}) or {}
        w_props = writer.get("properties", {}) or {}
        for name in sorted(set(r_props) | set(w_props)):
            prop_path = f"{path}/properties/{name}"
            if name in r_props and name in w_props:
                out += self.compare(r_props[name], w_props[name], prop_path)
            elif name in r_props:
                extra = _extra_schema(writer, name)
                if extra is False:
                    continue  # the writer could never write it
                if self.compare(r_props[name], extra, prop_path):
                    rule = (
                        "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
                        if extra is True
                        else "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    )
                    out.append(
                        Incompatibility(
                            rule,
                            prop_path,
                            f"property '{name}' added: the writer may already send it with another type",
                        )
                    )
            else:
                extra = _extra_schema(reader, name)
                if extra is False:
                    out.append(
                        Incompatibility(
                            "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                            prop_path,
                            f"property '{name}' removed while additionalProperties is false",
                        )
                    )
                elif self.compare(extra, w_props[name], prop_path):
                    out.append(
                        Incompatibility(
                            "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                            prop_path,
                            f"property '{name}' removed; the reader's additional schema does not accept it",
                        )
                    )
        r_additional = reader.get("additionalProperties", True)
        w_additional = writer.get("additionalProperties", True)
        if self.compare(r_additional, w_additional, f"{path}/additionalProperties"):
            out.append(
                Incompatibility(
                    "ADDITIONAL_PROPERTIES_NARROWED",
                    f"{path}/additionalProperties",
                    "the reader accepts fewer extra properties",
                )
            )
        writer_required = set(writer.get("required", []) or [])
        for name in reader.get("required", []) or []:
            if name in writer_required:
                continue
            prop = self._deref(r_props.get(name, {}), self.reader)
            if isinstance(prop, dict) and "default" in prop:
                continue
            out.append(
                Incompatibility(
                    "REQUIRED_PROPERTY_ADDED",
                    f"{path}/required",
                    f"'{name}' is now required and has no default",
                )
            )
        out += _bounds(reader, writer, path, "maxProperties", "minProperties", "PROPERTIES")
        out += _dependencies(reader, writer, path)
        return out

    def _array(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        out: list[Incompatibility] = []
        r_items, w_items = reader.get("items", True), writer.get("items", True)
        if isinstance(r_items, list) or isinstance(w_items, list):
            r_list = r_items if isinstance(r_items, list) else []
            w_list = w_items if isinstance(w_items, list) else []
            r_rest = reader.get("additionalItems", True) if isinstance(r_items, list) else r_items
            w_rest = writer.get("additionalItems", True) if isinstance(w_items, list) else w_items
            for i in range(max(len(r_list), len(w_list))):
                r_i = r_list[i] if i < len(r_list) else r_rest
                w_i = w_list[i] if i < len(w_list) else w_rest
                out += self.compare(r_i, w_i, f"{path}/items/{i}")
            out += self.compare(r_rest, w_rest, f"{path}/additionalItems")
        else:
            r_prefix, w_prefix = reader.get("prefixItems", []), writer.get("prefixItems", [])
            for i in range(max(len(r_prefix), len(w_prefix))):
                r_i = r_prefix[i] if i < len(r_prefix) else r_items
                w_i = w_prefix[i] if i < len(w_prefix) else w_items
                out += self.compare(r_i, w_i, f"{path}/prefixItems/{i}")
            out += self.compare(r_items, w_items, f"{path}/items")
        out += _bounds(reader, writer, path, "maxItems", "minItems", "ITEMS")
        if reader.get("uniqueItems") and not writer.get("uniqueItems"):
            out.append(
                Incompatibility(
                    "UNIQUE_ITEMS_ADDED", f"{path}/uniqueItems", "the reader requires unique items"
                )
            )
        if "contains" in reader and (
            "contains" not in writer
            or self.compare(reader["contains"], writer["contains"], f"{path}/contains")
        ):
            out.append(
                Incompatibility(
                    "CONTAINS_ADDED", f"{path}/contains", "the reader adds a 'contains' constraint"
                )
            )
        return out


# --- keyword helpers (no recursion) ---------------------------------------------------------------


def _string(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
    out = _bounds(reader, writer, path, "maxLength", "minLength", "LENGTH")
    if "pattern" in reader and reader["pattern"] != writer.get("pattern"):
        rule = "PATTERN_ADDED" if "pattern" not in writer else "PATTERN_CHANGED"
        out.append(
            Incompatibility(rule, f"{path}/pattern", f"the reader requires the pattern {reader['pattern']!r}")
        )
    return out


def _number(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
    out: list[Incompatibility] = []
    r_max, r_max_excl = _upper(reader)
    w_max, w_max_excl = _upper(writer)
    if r_max is not None and (
        w_max is None or r_max < w_max or (r_max == w_max and r_max_excl and not w_max_excl)
    ):
        out.append(
            Incompatibility(
                "MAXIMUM_ADDED" if w_max is None else "MAXIMUM_DECREASED",
                f"{path}/maximum",
                f"the reader's maximum is {r_max}",
            )
        )
    r_min, r_min_excl = _lower(reader)
    w_min, w_min_excl = _lower(writer)
    if r_min is not None and (
        w_min is None or r_min > w_min or (r_min == w_min and r_min_excl and not w_min_excl)
    ):
        out.append(
            Incompatibility(
                "MINIMUM_ADDED" if w_min is None else "MINIMUM_INCREASED",
                f"{path}/minimum",
                f"the reader's minimum is {r_min}",
            )
        )
    r_mult, w_mult = reader.get("multipleOf"), writer.get("multipleOf")
    if r_mult is not None and (w_mult is None or not _divides(r_mult, w_mult)):
        out.append(
            Incompatibility(
                "MULTIPLE_OF_ADDED" if w_mult is None else "MULTIPLE_OF_CHANGED",
                f"{path}/multipleOf",
                f"the reader requires multiples of {r_mult}",
            )
        )
    return out


def _enum(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
    out: list[Incompatibility] = []
    for key, rule in (("enum", "ENUM"), ("const", "CONST")):
        if key not in reader:
            continue
        r_values = reader[key] if key == "enum" else [reader[key]]
        if (
            key not in writer
            and not (key == "enum" and "const" in writer)
            and not (key == "const" and "enum" in writer)
        ):
            out.append(
                Incompatibility(
                    f"{rule}_ADDED", f"{path}/{key}", f"the reader restricts values to {r_values}"
                )
            )
            continue
        w_values = writer.get("enum", [writer["const"]] if "const" in writer else [])
        missing = [v for v in w_values if v not in r_values]
        if missing:
            out.append(
                Incompatibility(
                    f"{rule}_NARROWED", f"{path}/{key}", f"the reader no longer accepts {missing}"
                )
            )
    return out


def _bounds(
    reader: dict[str, Any], writer: dict[str, Any], path: str, max_key: str, min_key: str, noun: str
) -> list[Incompatibility]:
    out: list[Incompatibility] = []
    r_max, w_max = reader.get(max_key), writer.get(max_key)
    if r_max is not None and (w_max is None or r_max < w_max):
        rule = f"MAX_{noun}_ADDED" if w_max is None else f"MAX_{noun}_DECREASED"
        out.append(
            Incompatibility(rule, f"{path}/{max_key}", f"the reader's {max_key} is {r_max} (writer: {w_max})")
        )
    r_min, w_min = reader.get(min_key), writer.get(min_key)
    if r_min is not None and (w_min is None or r_min > w_min):
        rule = f"MIN_{noun}_ADDED" if w_min is None else f"MIN_{noun}_INCREASED"
        out.append(
            Incompatibility(rule, f"{path}/{min_key}", f"the reader's {min_key} is {r_min} (writer: {w_min})")
        )
    return out


def _dependencies(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
    out: list[Incompatibility] = []
    for key in ("dependencies", "dependentRequired"):
        r_deps = reader.get(key, {}) or {}
        w_deps = writer.get(key, {}) or {}
        for name, needs in r_deps.items():
            if not isinstance(needs, list):
                continue
            have = w_deps.get(name, [])
            extra = [n for n in needs if not isinstance(have, list) or n not in have]
            if extra:
                out.append(
                    Incompatibility(
                        "DEPENDENCY_ADDED", f"{path}/{key}/{name}", f"'{name}' now requires {extra}"
                    )
                )
    return out


def _upper(schema: dict[str, Any]) -> tuple[float | None, bool]:
    maximum, exclusive = schema.get("maximum"), schema.get("exclusiveMaximum")
    if isinstance(exclusive, bool):  # draft 4
        return maximum, exclusive
    if isinstance(exclusive, (int, float)) and (maximum is None or exclusive <= maximum):
        return exclusive, True
    return maximum, False


def _lower(schema: dict[str, Any]) -> tuple[float | None, bool]:
    minimum, exclusive = schema.get("minimum"), schema.get("exclusiveMinimum")
    if isinstance(exclusive, bool):
        return minimum, exclusive
    if isinstance(exclusive, (int, float)) and (minimum is None or exclusive >= minimum):
        return exclusive, True
    return minimum, False


def _divides(reader: float, writer: float) -> bool:
    ratio = writer / reader
    return abs(ratio - round(ratio)) < 1e-9


def _types(schema: dict[str, Any]) -> set[str]:
    value = schema.get("type")
    if value is None:  # no "type": keywords constrain only their own type, every type is accepted
        return set(ALL_TYPES)
    types = {value} if isinstance(value, str) else set(value)
    if "number" in types:
        types.add("integer")
    return types


def _sum(schema: dict[str, Any]) -> tuple[str, list[Any]] | None:
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return key, schema[key]
    return None


def _merge(base: dict[str, Any], branch: Any) -> Any:
    if branch is True or branch is False or not isinstance(branch, dict):
        return base or branch
    merged = dict(base)
    merged.update(branch)
    return merged


def _extra_schema(schema: dict[str, Any], name: str) -> Any:
    """The schema a property absent from ``properties`` gets: pattern or additional properties."""
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        try:
            if re.search(pattern, name):
                return sub
        except re.error:
            continue
    additional = schema.get("additionalProperties", True)
    return True if additional == {} else additional


_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "$id",
        "id",
        "$schema",
        "definitions",
        "$defs",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)


def _as_schema(schema: Any) -> Any:
    return schema if isinstance(schema, (bool, dict)) else True


def _is_empty(schema: Any) -> bool:
    return isinstance(schema, dict) and not (set(schema) - _ANNOTATIONS)


def _lookup(ref: str, form: JsonForm) -> Any:
    document, _, pointer = ref.partition("#")
    root = form.schema if not document else form.documents.get(document)
    if root is None:
        return True  # an unknown document: nothing to compare against
    node = root
    for raw in [p for p in pointer.split("/") if p]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return True
    return node
