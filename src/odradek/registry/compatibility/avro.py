"""Avro schema resolution (the Avro specification's "Schema Resolution") as a pure check.

``check(reader, writer)`` lists why data written with ``writer`` cannot be read with ``reader``:

- NAME_MISMATCH: when: named types (record, enum, fixed) differ in full name and the reader has no alias for
  the writer's
- FIXED_SIZE_MISMATCH: when: fixed sizes differ
- MISSING_ENUM_SYMBOLS: when: a writer symbol is not in the reader's enum and the reader enum has no
  ``default``
- READER_FIELD_MISSING_DEFAULT_VALUE: when: a reader field (by name or alias) is not in the writer and has
  no default
- TYPE_MISMATCH: when: types differ beyond the promotions int→long→float→double and string↔bytes
- MISSING_UNION_BRANCH: when: a writer union branch (or writer type) matches no reader union branch

Records are compared field by field by name (reader aliases count); writer-only fields are skipped by
readers. Logical types resolve on their underlying type. Recursive types are checked once per pair
of names. Paths are JSON pointers into the reader schema (``/fields/1/type``).
"""

from __future__ import annotations

from typing import Any

from odradek.registry.compatibility.result import Incompatibility
from odradek.registry.formats.avro import PRIMITIVES, AvroForm

PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def check(reader: AvroForm, writer: AvroForm) -> list[Incompatibility]:
    return _Checker(reader.names, writer.names).check(reader.schema, writer.schema, "")


class _Checker:
    def __init__(self, reader_names: dict[str, Any], writer_names: dict[str, Any]) -> None:
        self.reader_names = reader_names
        self.writer_names = writer_names
        self.in_progress: set[tuple[str, str]] = set()

    def _resolve(self, schema: Any, names: dict[str, Any]) -> Any:
        while isinstance(schema, str) and schema not in PRIMITIVES and schema in names:
            schema = names[schema]
        if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
            return self._resolve(schema["type"], names)
        if isinstance(schema, dict) and schema.get("type") in PRIMITIVES:
            return schema["type"]
        if isinstance(schema, dict) and isinstance(schema.get("type"), str) and schema["type"] in names:
            return self._resolve(schema["type"], names)
        return schema

    def compatible(self, reader: Any, writer: Any) -> bool:
        return not self.check(reader, writer, "")

    def check(self, reader: Any, writer: Any, path: str) -> list[Incompatibility]:
        reader = self._resolve(reader, self.reader_names)
        writer = self._resolve(writer, self.writer_names)
        if isinstance(writer, list):
            out: list[Incompatibility] = []
            for i, branch in enumerate(writer):
                if isinstance(reader, list):
                    if not any(self.compatible(r, branch) for r in reader):
                        out.append(
                            Incompatibility(
                                "MISSING_UNION_BRANCH",
                                path,
                                f"the reader's union lacks the writer's {describe(branch)} (branch {i})",
                            )
                        )
                else:
                    found = self.check(reader, branch, path)
                    if found:
                        out.append(
                            Incompatibility(
                                "MISSING_UNION_BRANCH",
                                path,
                                f"the writer's {describe(branch)} cannot be read as {describe(reader)}",
                            )
                        )
            return out
        if isinstance(reader, list):
            if any(self.compatible(r, writer) for r in reader):
                return []
            return [
                Incompatibility(
                    "MISSING_UNION_BRANCH", path, f"the reader's union has no branch for {describe(writer)}"
                )
            ]
        reader_type = kind(reader)
        writer_type = kind(writer)
        if reader_type != writer_type:
            if reader_type in PROMOTIONS.get(writer_type, ()):
                return []
            return [
                Incompatibility(
                    "TYPE_MISMATCH",
                    path,
                    f"reader type {describe(reader)} cannot read writer type {describe(writer)}",
                )
            ]
        if reader_type in PRIMITIVES:
            return []
        if reader_type == "array":
            return self.check(reader["items"], writer["items"], f"{path}/items")
        if reader_type == "map":
            return self.check(reader["values"], writer["values"], f"{path}/values")
        name_problem = self._names(reader, writer, path)
        if name_problem:
            return [name_problem]
        if reader_type == "fixed":
            if reader.get("size") != writer.get("size"):
                return [
                    Incompatibility(
                        "FIXED_SIZE_MISMATCH",
                        f"{path}/size",
                        f"{reader.get('name')}: size {reader.get('size')}, the writer's {writer.get('size')}",
                    )
                ]
            return []
        if reader_type == "enum":
            missing = [s for s in writer.get("symbols", []) if s not in reader.get("symbols", [])]
            if missing and "default" not in reader:
                return [
                    Incompatibility(
                        "MISSING_ENUM_SYMBOLS",
                        f"{path}/symbols",
                        f"the reader's enum {reader.get('name')} lacks {missing} and has no default symbol",
                    )
                ]
            return []
        return self._record(reader, writer, path)

    def _names(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> Incompatibility | None:
        reader_name, writer_name = reader.get("name"), writer.get("name")
        if reader_name == writer_name or writer_name in _aliases(reader):
            return None
        return Incompatibility(
            "NAME_MISMATCH", f"{path}/name", f"expected {writer_name}, found {reader_name} (add an alias?)"
        )

    def _record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        pair = (str(reader.get("name")), str(writer.get("name")))
        if pair in self.in_progress:
            return []  # recursive type: this pair is being checked further up
        self.in_progress.add(pair)
        try:
            writer_fields = {f["name"]: f for f in writer.get("fields", [])}
            out: list[Incompatibility] = []
            for i, field in enumerate(reader.get("fields", [])):
                field_path = f"{path}/fields/{i}"
                match = writer_fields.get(field["name"])
                if match is None:
                    match = next(
                        (writer_fields[a] for a in field.get("aliases", []) if a in writer_fields), None
                    )
                if match is not None:
                    out += self.check(field["type"], match["type"], f"{field_path}/type")
                elif "default" not in field:
                    out.append(
                        Incompatibility(
                            "READER_FIELD_MISSING_DEFAULT_VALUE",
                            field_path,
                            f"field '{field['name']}' has no default value and is missing in the writer's "
                            f'{writer.get("name")} (add "default")',
                        )
                    )
            return out
        finally:
            self.in_progress.discard(pair)


def kind(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, dict):
        value = schema.get("type")
        if value == "error":
            return "record"
        return str(value)
    return "union"


def describe(schema: Any) -> str:
    if isinstance(schema, dict):
        return f"{kind(schema)} {schema['name']}" if "name" in schema else kind(schema)
    if isinstance(schema, list):
        return "union"
    return str(schema)


def _aliases(schema: dict[str, Any]) -> set[str]:
    aliases = set(schema.get("aliases", []))
    name = str(schema.get("name", ""))
    namespace = name.rpartition(".")[0]
    return aliases | {f"{namespace}.{a}" for a in aliases if "." not in a and namespace}
