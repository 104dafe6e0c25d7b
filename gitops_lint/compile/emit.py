"""Plain data -> YAML text, in one fixed style, with ruamel.yaml.

The style:

* block style everywhere; empty mappings and lists as `{}` and `[]`;
* 2-space indentation; a list is indented under its key, `- ` at +2
  (`containers:` / `  - name: app`), as `kubectl` users and most repos write it;
* no line wrapping (the width is unbounded);
* strings are plain unless they must be quoted: anything YAML 1.1 would read as
  something else (`yes`, `on`, `1.0`, `~`, `2024-01-01`, `0x1F`, `<<`, `12:30`) is
  single quoted, and so is what a Go decoder would (`y`, `n`, `1e3`, `0o17`): our
  loader reads YAML 1.1, `kubectl` go-yaml v2, kustomize go-yaml v3;
  multi-line strings are literal blocks (`|`) when that keeps them exact and
  libyaml can read them back (no line starting with a tab);
  strings with control characters or line breaks other than `\n` are double
  quoted with escapes;
* `null` is written `null`, floats always with a point (`1.0e+16`) so YAML 1.1
  reads them back as floats;
* keys keep the order of the given dicts (the caller orders them); no anchors or
  aliases, even where the input shared a node.
"""

from __future__ import annotations

import copy
import io
import math
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.tag import Tag
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver as _Yaml11Resolver

from gitops_lint.yaml.loader import GO_YAML_V2, KYAML, PSYCH, kubernetes_tag

_STR = "tag:yaml.org,2002:str"
_FLOAT = "tag:yaml.org,2002:float"
_resolver = _Yaml11Resolver()


#: Characters that only double quotes carry exactly: non-printable ones, and line breaks other than
#: `\n` (a block or single-quoted scalar would turn them into `\n` or a space).
_NEEDS_ESCAPES = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufdcf\ufdf0-\ufefe\uff00-\ufffd"
                            "\U00010000-\U0010ffff]|[\u2028\u2029]")


#: A line that starts with a tab: libyaml (and go-yaml, its port) refuses a literal block whose first line
#: does ("found a tab character where an indentation space is expected"), so such text is double quoted.
_TAB_LINE = re.compile(r"(?:^|\n)\t")

def _plain_reads_as_other(text: str) -> bool:
    """Whether a plain scalar `text` could be read back as something other than a string: by YAML 1.1
    (PyYAML's rules, our loader's base) or by one of the Go decoders (`y`/`n` are booleans to go-yaml v2,
    what `kubectl` uses; `1e3`, `1_e3`, `0o17`, `0X1F` are numbers to go-yaml; `1e400`, text to go-yaml,
    is infinity to YAML 1.2 readers). Such strings are quoted."""
    yaml11 = _resolver.resolve(ScalarNode, text, (True, False))
    return yaml11 != _STR or any(kubernetes_tag(text, yaml11, reader) != _STR for reader in (KYAML, GO_YAML_V2, PSYCH))


class _Representer(SafeRepresenter):
    """The safe representer with our choices for strings and floats; mappings keep their order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sort_base_mapping_type_on_output = False

    def ignore_aliases(self, data: Any) -> bool:
        return True

    # Speed only: ruamel makes a Tag per node and decodes it again each time; reuse one per tag.
    def represent_scalar(self, tag: Any, value: Any, style: Any = None, anchor: Any = None) -> Any:
        return super().represent_scalar(_tag(tag), value, style=style, anchor=anchor)

    def represent_mapping(self, tag: Any, mapping: Any, flow_style: Any = None) -> Any:
        return super().represent_mapping(_tag(tag), mapping, flow_style=flow_style)

    def represent_sequence(self, tag: Any, sequence: Any, flow_style: Any = None) -> Any:
        return super().represent_sequence(_tag(tag), sequence, flow_style=flow_style)

    def represent_str(self, data: str) -> Any:
        style = None
        if _NEEDS_ESCAPES.search(data) or ("\n" in data and _TAB_LINE.search(data)):
            style = '"'
        elif "\n" in data:
            style = "|"  # the emitter falls back to double quotes when a block cannot hold the text exactly
        elif _plain_reads_as_other(data):
            style = "'"
        return self.represent_scalar(_STR, data, style=style)

    def represent_float(self, data: float) -> Any:
        if math.isnan(data):
            text = ".nan"
        elif math.isinf(data):
            text = ".inf" if data > 0 else "-.inf"
        else:
            text = repr(data).lower()
            mantissa, e, exponent = text.partition("e")
            if "." not in mantissa:
                mantissa += ".0"  # YAML 1.1 floats need the point: `1e+16` would be a string
            if e and exponent[0] not in "+-":
                exponent = "+" + exponent
            text = mantissa + (f"e{exponent}" if e else "")
        return self.represent_scalar(_FLOAT, text)


_Representer.add_representer(str, _Representer.represent_str)
_Representer.add_representer(float, _Representer.represent_float)

_TAGS: dict[str, Tag] = {}


def _tag(tag: Any) -> Any:
    if not isinstance(tag, str):
        return tag
    cached = _TAGS.get(tag)
    if cached is None:
        cached = _TAGS[tag] = Tag(suffix=tag)
    return cached


class _Emitter(Emitter):
    """ruamel's emitter, remembering its analysis of scalars it has seen (keys repeat a lot).

    Each use gets a copy: the emitter sets flags on the analysis it is given.
    """

    _analyses: dict[str, Any] = {}

    def analyze_scalar(self, scalar: Any) -> Any:
        analysis = self._analyses.get(scalar)
        if analysis is None:
            analysis = super().analyze_scalar(scalar)
            if len(scalar) < 200 and len(self._analyses) < 100_000:
                self._analyses[scalar] = analysis
        return copy.copy(analysis)


_yaml: YAML | None = None


def _dumper() -> YAML:
    global _yaml
    if _yaml is None:
        y = YAML(typ="safe", pure=True)
        y.Representer = _Representer
        y.Emitter = _Emitter
        y.default_flow_style = False
        y.indent(mapping=2, sequence=4, offset=2)
        y.width = 2**31 - 1
        y.allow_unicode = True
        y.explicit_start = False
        _yaml = y
    return _yaml


def dump(data: Any) -> str:
    """One YAML document (no `---`), ending in a newline."""
    if data and type(data) in (dict, list):
        lines: list[str] = []
        try:
            if type(data) is dict:
                _write_mapping(data, 0, lines)
            else:
                _write_sequence(data, 2, lines)  # ruamel indents a top-level list too
            return "".join(lines)
        except _Unusual:
            pass
    return dump_with_ruamel(data)


def dump_with_ruamel(data: Any) -> str:
    """`dump` by ruamel.yaml's emitter: the reference `dump`'s fast writer is tested against."""
    out = io.StringIO()
    _dumper().dump(data, out)
    text = out.getvalue()
    # A bare scalar document ends with `...`; the next document's `---` ends it as well.
    if text.endswith("\n...\n"):
        text = text[: -len("...\n")]
    return text


# --------------------------------------------------------------------------- the fast writer
#
# ruamel's emitter is general (flow styles, comments, anchors, line folding) and costs ~98% of
# a compile. Documents that are mappings of plain data take this direct writer instead; it
# reproduces ruamel's output for the cases it accepts byte for byte (tests compare the two on
# every corpus document and on generated data) and hands everything else to ruamel: keys that
# need quotes, strings that need escapes, multi-line strings in lists or starting with a space
# or line break, lists directly inside lists, and types other than the YAML core ones.


class _Unusual(Exception):
    """Something the fast writer leaves to ruamel."""


_analysis_emitter: Emitter | None = None
_RUAMEL_STR = "tag:yaml.org,2002:str"
_scalar_cache: dict[str, str] = {}
_key_cache: dict[str, str] = {}


def _analysis(text: str) -> Any:
    global _analysis_emitter
    if _analysis_emitter is None:
        _analysis_emitter = _Emitter(io.StringIO(), allow_unicode=True)  # as the dumper's
        _analysis_emitter.use_version = None  # read by analyze_scalar (a dumper's serializer has it; as in ours)
    return _analysis_emitter.analyze_scalar(text)


def _ruamel_reads_as_str(text: str) -> bool:
    """Whether ruamel's own resolver (YAML 1.2) reads the plain scalar `text` as a string."""
    resolver = _dumper().resolver
    return str(resolver.resolve(RuamelScalarNode, text, (True, False))) == _RUAMEL_STR


def _single_line_str(text: str) -> str:
    """A one-line string as ruamel writes it outside a key: plain, or single quoted."""
    cached = _scalar_cache.get(text)
    if cached is not None:
        return cached
    if "\n" in text or _NEEDS_ESCAPES.search(text):
        raise _Unusual
    analysis = _analysis(text)
    if not _plain_reads_as_other(text) and _ruamel_reads_as_str(text) and analysis.allow_block_plain \
            and not analysis.empty:
        out = text
    elif "'" in text and analysis.allow_double_quoted and not _plain_reads_as_other(text):
        # ruamel's choice here; with no character that needs an escape, only `\\` and `"` are escaped
        out = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif analysis.allow_single_quoted:
        out = "'" + text.replace("'", "''") + "'"
    else:
        raise _Unusual
    if len(_scalar_cache) < 200_000:
        _scalar_cache[text] = out
    return out


def _key(key: Any) -> str:
    if type(key) is int:
        return str(key)
    if type(key) is bool:
        return "true" if key else "false"  # `on:` of a CI workflow, read as YAML 1.1
    if not isinstance(key, str):
        raise _Unusual
    cached = _key_cache.get(key)
    if cached is not None:
        return cached
    analysis = _analysis(key) if key else None
    if (analysis is None or analysis.multiline or not analysis.allow_block_plain or _NEEDS_ESCAPES.search(key)
            or _plain_reads_as_other(key) or not _ruamel_reads_as_str(key) or len(key) > 128):
        raise _Unusual  # quoted (or long, which YAML writes as a complex `? ` key)
    if len(_key_cache) < 100_000:
        _key_cache[key] = key
    return key


def _scalar(value: Any) -> str:
    """A one-line scalar that is not a string."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        node = _Representer().represent_float(value)
        return node.value
    raise _Unusual


def _literal(text: str, indent: int, head: str, lines: list[str]) -> None:
    """`head` followed by a literal block scalar whose lines sit at `indent`."""
    if text[0] in " \n":
        raise _Unusual  # needs an indentation indicator
    if text[-1] != "\n":
        hints = "-"
    elif len(text) == 1 or text[-2] == "\n":
        hints = "+"
    else:
        hints = ""
    lines.append(f"{head}|{hints}\n")
    pad = " " * indent
    body = text[:-1] if text.endswith("\n") else text
    trailing = len(text) - len(text.rstrip("\n"))
    parts = body.rstrip("\n").split("\n") if trailing else body.split("\n")
    for part in parts:
        lines.append(f"{pad}{part}\n" if part else "\n")
    lines.append("\n" * max(trailing - 1, 0))


def _write_scalar(prefix: str, value: Any, block_indent: int, lines: list[str]) -> None:
    """`prefix` (`key: ` or `- `) and a scalar; a multi-line string as a literal block at `block_indent`."""
    if type(value) is not str:
        lines.append(f"{prefix}{_scalar(value)}\n")
    elif "\n" not in value:
        lines.append(f"{prefix}{_single_line_str(value)}\n")
    elif _NEEDS_ESCAPES.search(value) or _TAB_LINE.search(value):
        raise _Unusual
    else:
        _literal(value, block_indent, prefix, lines)


def _write_value(head: str, value: Any, indent: int, lines: list[str]) -> None:
    """`head` is `key:` at its indentation; the value follows on the line or below it."""
    kind = type(value)
    if kind is dict or kind is list:
        if not value:
            lines.append(f"{head} {'{}' if kind is dict else '[]'}\n")
        else:
            lines.append(f"{head}\n")
            (_write_mapping if kind is dict else _write_sequence)(value, indent + 2, lines)
    else:
        _write_scalar(f"{head} ", value, indent + 2, lines)


def _write_mapping(mapping: dict, indent: int, lines: list[str], first_prefix: str | None = None) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        prefix = pad if first_prefix is None else first_prefix
        first_prefix = None
        _write_value(f"{prefix}{_key(key)}:", value, indent, lines)


def _write_sequence(items: list, indent: int, lines: list[str]) -> None:
    dash = " " * indent + "- "
    for item in items:
        kind = type(item)
        if kind is dict:
            if item:
                _write_mapping(item, indent + 2, lines, first_prefix=dash)
            else:
                lines.append(f"{dash}{{}}\n")
        elif kind is list:
            if item:
                raise _Unusual
            lines.append(f"{dash}[]\n")
        else:
            _write_scalar(dash, item, indent + 2, lines)
