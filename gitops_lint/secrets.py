"""GitLab token formats: finding them in text, and keeping them out of every output.

The patterns are GitLab's own (domain reference §D.2). `redact` is applied by
the engine to every message and code-frame line, so no rule and no output
format can print a token, even one hidden in base64 in a Secret's `data`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

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
# An instance prefix (`SIE-glpat-...`, domain reference §D.1) ends in `-`: a `-`
# may come before the token, which itself still starts at `gl...-`.
@functools.cache
def _token_re() -> "re.Pattern[str]":
    """Compiled the first time a text holds a token's prefix: most runs never need it (half a millisecond
    of every one-file check)."""
    return re.compile(r"(?<![0-9A-Za-z_])(?:" + "|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(TOKEN_PATTERNS))
                      + r")(?![0-9A-Za-z_-])")


_PREFIX_HINT = re.compile(r"gl(?:pat|dt|oas|soat|cbt|ffct|rtr?|imt|agent|ptt|ft)-")
#: Redaction is broader than detection: anything shaped like a prefixed token goes, valid or not.
_REDACT_RE = re.compile(r"(?<![0-9A-Za-z_])(gl(?:pat|dt|oas|soat|cbt|ffct|rtr?|imt|agent|ptt|ft)-)[0-9A-Za-z_.-]{16,}")
#: Base64 long enough to hold the shortest token (gldt- + 20 = 25 bytes -> 36 characters with padding).
_BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=])")
#: Fewer distinct characters than this in the secret part means a placeholder (`glpat-xxxxxxxxxxxxxxxxxxxx`);
#: so does one with no digit and no lowercase letter (`glrt-REPLACE_ME_WITH_TOKEN`).
MIN_DISTINCT_CHARS = 6


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """A GitLab token found in a text: which kind, where, and its prefix."""

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
    for match in _token_re().finditer(text):
        token = match.group(0)
        prefix, _, secret = token.partition("-")
        if len(set(secret)) < MIN_DISTINCT_CHARS or _placeholder(secret):
            continue
        index = int(match.lastgroup[1:])  # type: ignore[index]
        yield TokenMatch(TOKEN_PATTERNS[index][0], match.start(), match.end(), prefix + "-", len(token))


def _placeholder(secret: str) -> bool:
    """`REPLACE_ME_WITH_TOKEN`: no digit and no lowercase letter, which a random token of twenty characters
    or more all but never is."""
    return not any(c.isdigit() or c.islower() for c in secret)


def decode_base64(value: str) -> str | None:
    """The text `value` encodes, for a token search: padding may be missing, and bytes that are no UTF-8
    (a binary prefix) become U+FFFD rather than hide what follows."""
    value = value.strip()
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


def find_base64_tokens(text: str, depth: int = 2) -> Iterator[tuple[int, int, TokenMatch]]:
    """Tokens hidden in base64 runs of `text` (a Secret's `data`): (start, end) of the run, and the token.
    A run may encode more base64 (a dockerconfigjson's `auth`): `depth` levels are opened. Anything shaped
    like a token counts, valid or not, as `redact` counts it."""
    for run in _BASE64_RE.finditer(text):
        decoded = decode_base64(run.group(0))
        if decoded is None:
            continue
        token = next(find_tokens(decoded), None) or _token_shaped(decoded)
        if token is None and depth > 1:
            token = next((inner for _, _, inner in find_base64_tokens(decoded, depth - 1)), None)
        if token is not None:
            yield run.start(), run.end(), token


def _token_shaped(text: str) -> TokenMatch | None:
    shaped = _REDACT_RE.search(text)
    if shaped is None:
        return None
    return TokenMatch("token", shaped.start(), shaped.end(), shaped.group(1), len(shaped.group(0)))


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
    patch included, inline in a kustomization too) and the `literals` of a kustomize `secretGenerator`, wherever
    they sit in a document: a `List`'s items, a ResourceSet's resources, a chart's
    values hold Secrets too. A SOPS document is no exception: `encrypted_regex`
    leaves some values in plain text, and masking ciphertext hides nothing.
    """
    found: list[tuple[ValueSpan, Any]] = []
    for doc in documents:
        if _holds_secret(doc.data):  # else its file is not parsed again for positions
            _secrets_in(doc.data, doc.pos, found)
    found.sort(key=lambda entry: entry[0])  # in the order of the file
    return found


def _holds_secret(data: Any) -> bool:
    stack = [data]  # a stack, not recursion: a document may nest as deep as the parser allows
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("kind") == "Secret" or isinstance(value.get("secretGenerator"), list) \
                    or _secret_patch(value):
                return True
            stack.extend(v for v in value.values() if isinstance(v, (dict, list, str)))
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, (dict, list, str)))
        elif isinstance(value, str) and _SECRET_TEXT.search(value):
            return True  # an inline patch of a Secret (`patchesStrategicMerge`, a `patch:`)
    return False


def _secret_patch(data: dict) -> bool:
    """A kustomize patch entry whose `patch` is a JSON 6902 patch of a Secret (no `kind:` line in it)."""
    target = data.get("target")
    return isinstance(data.get("patch"), str) and isinstance(target, dict) and target.get("kind") == "Secret"


def _secrets_in(data: Any, pos: Any, found: list[tuple[ValueSpan, Any]]) -> None:
    stack = [(data, pos)]
    while stack:
        data, pos = stack.pop()
        if isinstance(data, list) and isinstance(pos, SeqPos):
            for item, tree in zip(data, pos.items):
                if isinstance(item, str) and _SECRET_TEXT.search(item):
                    found.append((_raw(tree), item))  # an inline patch of a Secret: all of it
                else:
                    stack.append((item, tree))
        if not isinstance(data, dict) or not isinstance(pos, MapPos):
            continue
        entries = pos.entries
        if data.get("kind") == "Secret":
            for section in ("data", "stringData"):
                if section in entries:
                    found += _values(data.get(section), entries[section][1], MapPos)
        generators = data.get("secretGenerator")
        entry = entries.get("secretGenerator")
        if isinstance(generators, list) and entry is not None and isinstance(entry[1], SeqPos):
            for generator, tree in zip(generators, entry[1].items):
                if isinstance(generator, dict) and isinstance(tree, MapPos) and "literals" in tree.entries:
                    found += _values(generator.get("literals"), tree.entries["literals"][1], SeqPos)
        for key, (_, tree) in entries.items():
            value = data.get(key)
            if isinstance(value, str) and (_SECRET_TEXT.search(value) or (key == "patch" and _secret_patch(data))):
                found.append((_raw(tree), value))  # an inline patch of a Secret: all of it
            elif isinstance(tree, (MapPos, SeqPos)) and isinstance(value, (dict, list)):
                stack.append((value, tree))


#: Stands for the value of a whole block section: every line of it shows its keys, not its values.
SECTION = object()


def _values(value: Any, tree: Any, shape: type) -> list[tuple[ValueSpan, Any]]:
    """Each entry of a section in the shape it should have (a mapping, a list), else the section whole."""
    if isinstance(tree, MapPos) and shape is MapPos and isinstance(value, dict):
        # The section too: a key given twice keeps only its last position, and the first value is no less secret.
        return [(tree.span, SECTION), *((_raw(t), value.get(k)) for k, (_, t) in tree.entries.items())]
    if isinstance(tree, SeqPos) and shape is SeqPos and isinstance(value, list):
        return [(_raw(t), v) for v, t in zip(value, tree.items)]
    return [(_raw(tree), value)]


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


#: A file that holds a Secret or a secretGenerator, as its text says (for files that did not parse).
_SECRET_TEXT = re.compile(r"^\s*(?:-\s+)?kind:\s*[\"']?Secret[\"']?\s*(?:#.*)?$|^\s*secretGenerator:", re.M)
#: The part of a line that names a value (`- key:` / `KEY=`), kept when the value is masked.
_KEY_PART = re.compile(r"^\s*(?:-\s+)*(?:[^\s:=#][^:=]*?(?::(?=\s|$)|=))?")


def file_secret_values(source: Any) -> list[tuple[ValueSpan, Any]]:
    """`secret_values` of a loaded file, computed once and kept on it."""
    if source._secret_values is None:
        source._secret_values = secret_values(source.documents)
    return source._secret_values


def mask_finding(source: Any, span: Any, lines: Sequence[str], message: str) -> tuple[tuple[str, ...], str]:
    """The code frame and message of a finding in `source`, with the file's secret values masked.

    Where the file parsed, the values are known by position (`secret_values`). A
    file whose values are all secret (a secretGenerator's input) or that did not
    parse yet holds a Secret has every value on the frame's lines masked: there
    is no telling which of them are secret.
    """
    first = max(span.line, 1)
    if source.all_secret or (source.incomplete and _SECRET_TEXT.search(source.text)):
        yaml = source.rel.endswith((".yaml", ".yml", ".json")) or not source.all_secret
        return tuple(mask_values(line, yaml) for line in lines), message
    values = file_secret_values(source)
    if not values:
        return tuple(lines), message
    near = [v for s, v in values if s[0] <= span.end_line and span.line <= s[2] and v is not SECTION]
    regions = [s for s, v in values if v is SECTION]
    lines = tuple(mask_values(line) if any(_whole_line_in(s, n, line) for s in regions) else line
                  for n, line in enumerate(lines, first))
    return mask_lines(lines, first, [s for s, v in values if v is not SECTION]), mask_message(message, near)


def _whole_line_in(span: ValueSpan, number: int, line: str) -> bool:
    """Line `number` lies inside `span` from its first character (a block section's line, not the
    line that opens a flow mapping after its key)."""
    start_line, start_col, end_line, end_col = span
    if number == start_line:
        return start_col <= len(line) - len(line.lstrip()) + 1
    return start_line < number < end_line or (number == end_line and end_col > 1)


def mask_values(line: str, yaml: bool = True) -> str:
    """`line` with all but its key (`key:`, `- `, `KEY=`) and a trailing YAML comment shown as `*`. A `#`
    inside quotes is no comment, nor on a line with no key (a block scalar's), nor anywhere in an env
    file (`yaml=False`: a generator's input, where the value runs to the end of the line)."""
    keep = _KEY_PART.match(line).end()  # type: ignore[union-attr]
    keyed = bool(line[:keep].strip(" \t-"))
    end = _comment_start(line, keep) if yaml and keyed else None
    end = len(line) if end is None else end
    return line[:keep] + re.sub(r"\S", "*", line[keep:end]) + line[end:]


def _comment_start(line: str, start: int) -> int | None:
    """Where a YAML comment begins in `line` after `start` (whitespace before its `#`), outside quotes."""
    quote, at = None, start
    while at < len(line):
        char = line[at]
        if quote is not None:
            if char == "\\" and quote == '"':
                at += 1  # an escaped character, a quote among them
            elif char == quote and quote == "'" and line[at + 1 : at + 2] == "'":
                at += 1  # '' is a quote inside single quotes
            elif char == quote:
                quote = None
        elif char in "'\"" and (at == start or line[at - 1] in " \t[{,:"):
            quote = char
        elif char == "#" and (at == 0 or line[at - 1] in " \t"):
            return at if at > start else None
        at += 1
    return None


def mask_message(message: str, values: Sequence[Any]) -> str:
    """`message` with each of `values` (as text, or as a message quotes it) replaced by `***`."""
    texts: set[str] = set()
    for value in values:
        if isinstance(value, (dict, list)) or value is None:
            continue
        texts.add(str(value).lower() if isinstance(value, bool) else str(value))
        texts.add(show_value(value).strip('"'))
    pattern = _whole_words(tuple(sorted((t for t in texts if t.strip()), key=lambda t: (-len(t), t))))
    return message if pattern is None else pattern.sub("***", message)


@functools.lru_cache(maxsize=64)
def _whole_words(texts: tuple[str, ...]) -> "re.Pattern[str] | None":
    """One pattern for all `texts` (the longest first), each matched as a whole word: a short value
    does not eat into other text."""
    if not texts:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, texts)) + r")(?![\w-])")


#: A value Secrets hand to other objects is masked wherever it appears once it is this long (glued into a
#: URL or a name, whatever its case); shorter, only where it stands alone (between spaces, quotes or
#: brackets), so that `true`, `1` or `admin` do not eat into other text (`administration`, `busybox:1.2`).
_ANYWHERE_FROM = 8
#: The shortest start of a long value shown where a message cuts a quoted value short (`show_value`).
_CUT_FROM = 6
_CUT_SHORT = re.compile(r"([^\s\"'`]{%d,})(?:\.\.\.|\u2026)" % _CUT_FROM)


class SecretMasker:
    """Masks values Flux or kustomize copied out of a Secret into other objects (`FluxView.secret_texts`)
    as `***`: in every finding's message, and in the names `graph` and `diff` print. Built once a run."""

    def __init__(self, secrets: Iterable[str]):
        self.long = sorted({s for s in secrets if len(s.strip()) >= _ANYWHERE_FROM}, key=lambda t: (-len(t), t))
        self.short = sorted({s for s in secrets if 0 < len(s.strip()) < _ANYWHERE_FROM}, key=lambda t: (-len(t), t))
        self._long_lower = [s.lower() for s in self.long]

    def __bool__(self) -> bool:
        return bool(self.long or self.short)

    def __call__(self, text: str) -> str:
        lowered = text.lower()
        # A substring test each (fast, in C) before any pattern: a run may know thousands of such values.
        long = tuple(s for s, low in zip(self.long, self._long_lower) if low in lowered)
        short = tuple(s for s in self.short if s in text)
        if long or short:
            text = _secret_pattern(long, short).sub("***", text)
        if self.long and ("..." in text or "\u2026" in text):
            text = _CUT_SHORT.sub(self._cut_short, text)
        return text

    def _cut_short(self, match: "re.Match[str]") -> str:
        """A value a message cut short may end in the start of a long secret: that start goes too."""
        tail = match.group(1)
        lowered = tail.lower()
        for secret in self._long_lower:
            for size in range(min(len(secret), len(tail)), _CUT_FROM - 1, -1):
                if lowered.endswith(secret[:size]):
                    return tail[: len(tail) - size] + "***" + match.group(0)[len(tail):]
        return match.group(0)


@functools.lru_cache(maxsize=256)
def _secret_pattern(long: tuple[str, ...], short: tuple[str, ...]) -> "re.Pattern[str]":
    parts = ([f"(?i:{'|'.join(map(re.escape, long))})"] if long else []) + (
        [r"(?<![^\s\"'`(\[{])(?:" + "|".join(map(re.escape, short)) + r")(?![^\s\"'`)\]},;])"] if short else [])
    return re.compile("|".join(parts))
