"""Plain data -> YAML text, in one fixed style, with ruamel.yaml.

The style:

* block style everywhere; empty mappings and lists as `{}` and `[]`;
* 2-space indentation; a list is indented under its key, `- ` at +2
  (`containers:` / `  - name: app`), as `kubectl` users and most repos write it;
* no line wrapping (the width is unbounded);
* strings are plain unless they must be quoted: anything YAML 1.1 would read as
  something else (`yes`, `on`, `1.0`, `~`, `2024-01-01`, `0x1F`, `<<`) is single
  quoted, because our loader, the Kubernetes YAML decoder and Flux all read YAML 1.1;
  multi-line strings are literal blocks (`|`) when that keeps them exact;
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
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.tag import Tag
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver as _Yaml11Resolver

_STR = "tag:yaml.org,2002:str"
_FLOAT = "tag:yaml.org,2002:float"
_resolver = _Yaml11Resolver()


#: Characters that only double quotes carry exactly: non-printable ones, and line breaks other than
#: `\n` (a block or single-quoted scalar would turn them into `\n` or a space).
_NEEDS_ESCAPES = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufdcf\ufdf0-\ufefe\uff00-\ufffd"
                            "\U00010000-\U0010ffff]|[\u2028\u2029]")


def _plain_reads_as_other(text: str) -> bool:
    """Whether a plain scalar `text` would not come back as a string under YAML 1.1 (PyYAML's rules)."""
    return _resolver.resolve(ScalarNode, text, (True, False)) != _STR


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
        if _NEEDS_ESCAPES.search(data):
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
    out = io.StringIO()
    _dumper().dump(data, out)
    text = out.getvalue()
    # A bare scalar document ends with `...`; the next document's `---` ends it as well.
    if text.endswith("\n...\n"):
        text = text[: -len("...\n")]
    return text
