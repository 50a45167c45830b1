"""The reference tables of docs/, generated from the code: every claim kind (the ``redshift.claim_kinds``
registry), every source's spec fields (its ``spec_type``, nested specs included) and the run settings.

    python docs/reference_tables.py          # rewrite the generated blocks of docs/*.md
    python docs/reference_tables.py --check  # exit 1 if a block is out of date (tests/test_docs.py runs this)

A generated block sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``; NAME is
``kinds``, ``run-settings`` or ``source-<name>``. Everything outside the markers is prose.
"""
import argparse
import dataclasses
import re
import sys
import typing
from pathlib import Path
from typing import Any, Literal

from redshift.claims.kinds import KINDS
from redshift.claims.schema import RunSettings
from redshift.core import SOURCES, atomic_write_text
from redshift.parse import nested_type, type_hints

DOCS = Path(__file__).resolve().parent
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n).*?(<!-- end: (?P=name) -->)", re.S)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _allowed(hint: Any, meta: dict) -> str:
    """What a field accepts, from its type hint and metadata."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal or meta.get("choices"):
        return ", ".join(f"`{v}`" for v in (args if origin is Literal else meta["choices"]))
    options = [a for a in args if a is not type(None)] if args else [hint]
    names = []
    for option in options:
        name = getattr(option, "__name__", str(option))
        names.append({"int": "integer", "float": "number", "bool": "true / false", "str": "text"}.get(name, name))
    text = " or ".join(names) + (" or null" if type(None) in args else "")
    low, high = meta.get("min"), meta.get("max")
    if low is not None or high is not None:
        left = "(" if meta.get("min_open") else "["
        right = ")" if meta.get("max_open") else "]"
        text += f" in {left}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{right}"
    return text


def _default(field: dataclasses.Field) -> str:
    """The default as YAML writes it (``null``, ``false``, ``1.0``), '(defaults)' for a nested spec."""
    value = field.default
    if value is dataclasses.MISSING:
        return "(defaults)" if field.default_factory is not dataclasses.MISSING else "required"
    if value is None or isinstance(value, bool):
        return f"`{str(value).lower() if value is not None else 'null'}`"
    return f"`{value}`"


def spec_rows(cls: type, prefix: str = "") -> list[str]:
    """One table row per field of ``cls``; nested spec fields follow as ``parent.field``."""
    rows, nested = [], []
    hints = type_hints(cls)
    for field in dataclasses.fields(cls):
        name = f"{prefix}{field.name}"
        inner = nested_type(hints[field.name])
        rows.append(f"| `{name}` | {_cell(_allowed(hints[field.name], field.metadata) if not inner else 'mapping')} | "
                    f"{_cell(_default(field))} | {_cell(field.metadata.get('doc', ''))} |")
        if inner is not None:
            nested.append((inner, f"{name}."))
    for inner, sub in nested:
        rows += spec_rows(inner, sub)
    return rows


def spec_table(cls: type) -> str:
    return "\n".join(["| field | values | default | meaning |", "|---|---|---|---|", *spec_rows(cls)]) + "\n"


def kinds_table() -> str:
    lines = ["| kind | subjects | thresholds (at least one of) | passes when |", "|---|---|---|---|"]
    for name, kind in KINDS.items():
        roles = ", ".join(f"`{r}`" for r in kind.layout.roles)
        if kind.layout.optional:
            roles += " (optional " + ", ".join(f"`{r}`" for r in kind.layout.optional) + ")"
        thresholds = ", ".join(f"`{t}`" for t in sorted(kind.thresholds))
        if kind.required:
            thresholds += " (needs one of " + ", ".join(f"`{t}`" for t in sorted(kind.required)) + ")"
        lines.append(f"| `{name}` | {roles} | {thresholds} | {_cell(kind.doc)} |")
    return "\n".join(lines) + "\n"


def blocks() -> dict[str, str]:
    """Every generated block by name."""
    generated = {"kinds": kinds_table(), "run-settings": spec_table(RunSettings)}
    for name, source in SOURCES.items():
        spec = getattr(source, "spec_type", None)
        if spec is not None:
            generated[f"source-{name}"] = spec_table(spec)
    return generated


def render(text: str, generated: dict[str, str]) -> str:
    return BLOCK.sub(lambda m: m.group(1) + generated.get(m["name"], f"(no generated block {m['name']!r})\n")
                     + m.group(3), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/reference_tables.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that docs/ is up to date")
    args = parser.parse_args(argv)
    generated, stale, used = blocks(), [], set()
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        used |= {m["name"] for m in BLOCK.finditer(text)}
        new = render(text, generated)
        if new != text:
            stale.append(path)
            if not args.check:
                atomic_write_text(path, new)
    missing = sorted(set(generated) - used)
    for name in missing:
        print(f"reference_tables: no page has the block <!-- generated: {name} -->", file=sys.stderr)
    for path in stale:
        print(f"reference_tables: {path.relative_to(DOCS.parent)} {'is out of date' if args.check else 'updated'}",
              file=sys.stderr)
    return 1 if missing or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
