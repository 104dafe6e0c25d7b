"""Plain data -> YAML text, in one fixed style, with ruamel.yaml.

The style (documented in the README's `compile` section too):

* block style everywhere; empty mappings and lists as `{}` and `[]`;
* 2-space indentation; a list is indented under its key, `- ` at +2
  (`containers:` / `  - name: app`), as `kubectl` users and most repos write it;
* no line wrapping (the width is unbounded);
* strings are plain unless they must be quoted: anything YAML 1.1 would read as
  something else (`yes`, `on`, `1.0`, `~`, `2024-01-01`, `0x1F`, `<<`) is single
  quoted, because our loader, the Kubernetes YAML decoder and Flux all read YAML 1.1;
  multi-line strings are literal blocks (`|`) when that keeps them exact,
  otherwise double quoted with escapes;
* `null` is written `null`, floats always with a point (`1.0e+16`) so YAML 1.1
  reads them back as floats;
* keys keep the order of the given dicts (the caller orders them); no anchors or
  aliases, even where the input shared a node.
"""

from __future__ import annotations

import io
import math
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.representer import SafeRepresenter
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver as _Yaml11Resolver

_STR = "tag:yaml.org,2002:str"
_FLOAT = "tag:yaml.org,2002:float"
_resolver = _Yaml11Resolver()


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

    def represent_str(self, data: str) -> Any:
        style = None
        if "\n" in data:
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

_yaml: YAML | None = None


def _dumper() -> YAML:
    global _yaml
    if _yaml is None:
        y = YAML(typ="safe", pure=True)
        y.Representer = _Representer
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
