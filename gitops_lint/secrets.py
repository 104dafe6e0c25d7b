"""GitLab token formats: finding them in text, and keeping them out of every output.

The patterns are GitLab's own (domain reference §D.2). `redact` is applied by
the engine to every message and code-frame line, so no rule and no output
format can print a token, even one hidden in base64 in a Secret's `data`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from gitops_lint.diagnostics import show_value
from gitops_lint.yaml.positions import MapPos, SeqPos

#: (kind, regex) in the order GitLab's secret-detection patterns list them.
TOKEN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("personal, project or group access token", r"glpat-[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}(?:\.[0-9a-z]{2})?[0-9a-z]{7}"),
    ("personal, project or group access token", r"glpat-[0-9a-zA-Z_-]{20}"),
    ("deploy token", r"gldt-[0-9a-zA-Z_-]{20}"),
    ("OAuth application secret", r"gloas-[0-9a-zA-Z_-]{64}"),
    ("SCIM token", r"glsoat-[0-9a-zA-Z_-]{20}"),
    ("CI/CD job token", r"glcbt-[0-9a-zA-Z]{1,5}_[0-9a-zA-Z_-]{20}"),
    ("feature flags client token", r"glffct-[0-9a-zA-Z_-]{20}"),
    ("runner authentication token", r"glrtr?-[0-9a-zA-Z_-]{20,300}(?:\.[0-9a-z]{2}\.[0-9a-z]{2}[0-9a-z]{7})?"),
    ("incoming mail token", r"glimt-[0-9a-zA-Z_-]{25}"),
    ("agent for Kubernetes token", r"glagent-[0-9a-zA-Z_-]{50}"),
    ("pipeline trigger token", r"glptt-[0-9a-zA-Z_-]{40}"),
    ("feed token", r"glft-[0-9a-zA-Z_-]{20}"),
)

# One pass over the text finds every candidate; the longest alternative of a
# kind comes first so a routable token is not cut to its legacy-length prefix.
# An optional instance prefix (`SIE-glpat-...`) needs no handling: the token
# itself still starts at `gl...-`.
_TOKEN_RE = re.compile(
    r"(?<![0-9A-Za-z_-])(?:" + "|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(TOKEN_PATTERNS)) + r")(?![0-9A-Za-z_-])"
)
_PREFIX_HINT = re.compile(r"gl(?:pat|dt|oas|soat|cbt|ffct|rtr?|imt|agent|ptt|ft)-")
#: Redaction is broader than detection: anything shaped like a prefixed token goes, valid or not.
_REDACT_RE = re.compile(r"(?<![0-9A-Za-z_-])(gl(?:pat|dt|oas|soat|cbt|ffct|rtr?|imt|agent|ptt|ft)-)[0-9A-Za-z_.-]{16,}")
#: Base64 long enough to hold the shortest token (gldt- + 20 = 25 bytes -> 36 characters with padding).
_BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=])")
#: Fewer distinct characters than this in the secret part means a placeholder (`glpat-xxxxxxxxxxxxxxxxxxxx`).
MIN_DISTINCT_CHARS = 6


@dataclass(frozen=True, slots=True)
class TokenMatch:
    kind: str
    start: int
    end: int
    prefix: str
    length: int

    @property
    def redacted(self) -> str:
        return f"{self.prefix}[redacted, {self.length} characters]"


def find_tokens(text: str) -> Iterator[TokenMatch]:
    """GitLab tokens in `text`, placeholders excluded."""
    if not _PREFIX_HINT.search(text):
        return
    for match in _TOKEN_RE.finditer(text):
        token = match.group(0)
        prefix, _, secret = token.partition("-")
        if len(set(secret)) < MIN_DISTINCT_CHARS:
            continue
        index = int(match.lastgroup[1:])  # type: ignore[index]
        yield TokenMatch(TOKEN_PATTERNS[index][0], match.start(), match.end(), prefix + "-", len(token))


def decode_base64(value: str) -> str | None:
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def find_base64_tokens(text: str) -> Iterator[tuple[int, int, TokenMatch]]:
    """Tokens hidden in base64 runs of `text` (a Secret's `data`): (start, end) of the run, and the token."""
    for run in _BASE64_RE.finditer(text):
        decoded = decode_base64(run.group(0))
        if decoded is None:
            continue
        for token in find_tokens(decoded):
            yield run.start(), run.end(), token
            break


def redact(text: str) -> str:
    """`text` with every GitLab token, plain or base64-encoded, replaced by its prefix and length."""
    if _PREFIX_HINT.search(text):
        text = _REDACT_RE.sub(lambda m: f"{m.group(1)}[redacted, {len(m.group(0))} characters]", text)
    if len(text) >= 36:
        for start, end, token in sorted(find_base64_tokens(text), key=lambda r: -r[0]):
            text = text[:start] + f"[base64 of {token.redacted}]" + text[end:]
    return text


# --------------------------------------------------------------------------- Secret values

#: A value's place in its file, as the position tree stores it: (line, column, end line, end column).
ValueSpan = tuple[int, int, int, int]


def secret_values(documents: Sequence[Any]) -> list[tuple[ValueSpan, Any]]:
    """Every value a user keeps secret in these documents, with its span.

    Those are the values under a Secret's `data` and `stringData` (a Secret
    patch included) and the `literals` of a kustomize `secretGenerator`.
    SOPS-encrypted documents hold only ciphertext and are left alone.
    """
    found: list[tuple[ValueSpan, Any]] = []
    for doc in documents:
        data, pos = doc.data, doc.pos
        if doc.sops or not isinstance(data, dict) or not isinstance(pos, MapPos):
            continue
        if data.get("kind") == "Secret":
            for section in ("data", "stringData"):
                values, entry = data.get(section), pos.entries.get(section)
                if isinstance(values, dict) and entry is not None and isinstance(entry[1], MapPos):
                    for key, (_, tree) in entry[1].entries.items():
                        found.append((_raw(tree), values.get(key)))
        generators, entry = data.get("secretGenerator"), pos.entries.get("secretGenerator")
        if isinstance(generators, list) and entry is not None and isinstance(entry[1], SeqPos):
            for generator, tree in zip(generators, entry[1].items):
                literals = generator.get("literals") if isinstance(generator, dict) else None
                literal_entry = tree.entries.get("literals") if isinstance(tree, MapPos) else None
                if isinstance(literals, list) and literal_entry is not None and isinstance(literal_entry[1], SeqPos):
                    found += [(_raw(t), v) for v, t in zip(literals, literal_entry[1].items)]
    return found


def _raw(tree: Any) -> ValueSpan:
    return tree if isinstance(tree, tuple) else tree.span


def mask_lines(lines: Sequence[str], first_line: int, spans: Sequence[ValueSpan]) -> tuple[str, ...]:
    """Source lines `first_line`, ... with every character inside `spans` shown as `*`.

    Same-length masking keeps a code frame's underline under the right columns.
    """
    out = []
    for number, line in enumerate(lines, first_line):
        chars = list(line)
        for start_line, start_col, end_line, end_col in spans:
            if not start_line <= number <= end_line:
                continue
            start = start_col - 1 if number == start_line else len(line) - len(line.lstrip())
            end = end_col - 1 if number == end_line else len(line)
            for i in range(max(start, 0), min(end, len(chars))):
                if not chars[i].isspace():
                    chars[i] = "*"
        out.append("".join(chars))
    return tuple(out)


def mask_message(message: str, values: Sequence[Any]) -> str:
    """`message` with each of `values` (as text, or as a message quotes it) replaced by `***`."""
    texts: set[str] = set()
    for value in values:
        if isinstance(value, (dict, list)) or value is None:
            continue
        texts.add(str(value).lower() if isinstance(value, bool) else str(value))
        texts.add(show_value(value).strip('"'))
    for text in sorted((t for t in texts if t.strip()), key=len, reverse=True):
        message = re.sub(rf"(?<![\w-]){re.escape(text)}(?![\w-])", "***", message)
    return message
