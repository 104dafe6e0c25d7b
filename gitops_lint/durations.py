"""Durations as Go, Flux and GitLab (protobuf JSON) read and write them.

Three grammars meet in a GitOps repository:

* Go's `time.ParseDuration` (`1h30m`, `-1.5s`, `300us`, bare `0`): what Flux
  controllers and `metav1.Duration` decode with.
* The Flux CRD patterns, stricter than Go (no sign, no `ns`/`us`, no `.5s`, no
  bare `0`; some `timeout` fields have no `h`). The API server checks these.
* protobuf `google.protobuf.Duration` JSON (`3600s`, `1.500s`): the GitLab agent
  config (`reconcile_timeout`, `prune_timeout`, ...). Go-style `1h` is rejected.

Every parser returns integer nanoseconds and raises `DurationError` with a
message a person can act on.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "DurationError",
    "FLUX_DURATION_RE",
    "FLUX_TIMEOUT_NO_HOURS_RE",
    "GO_DURATION_RE",
    "MAX_GO_DURATION",
    "MIN_GO_DURATION",
    "MAX_PROTO_SECONDS",
    "PROTO_DURATION_RE",
    "format_go_duration",
    "parse_flux_duration",
    "parse_go_duration",
    "parse_proto_duration",
    "suggest_proto_duration",
    "to_proto_duration",
]

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

MAX_GO_DURATION = (1 << 63) - 1
MIN_GO_DURATION = -(1 << 63)
#: protobuf Duration seconds limit (about 10,000 years), either sign; nanos come on top.
MAX_PROTO_SECONDS = 315_576_000_000

# Note for callers: these patterns are the exact CRD/protojson texts. Use
# `.fullmatch()`: with Python's `re`, `$` also matches before a final "\n", which
# the API server (Go RE2) would not accept.
FLUX_DURATION_RE = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
FLUX_TIMEOUT_NO_HOURS_RE = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$")
PROTO_DURATION_RE = re.compile(r"^[-+]?((0|[1-9][0-9]*)(\.[0-9]{0,9})?|\.[0-9]{0,9})s$")
#: What `time.ParseDuration` accepts, ignoring int64 overflow.
GO_DURATION_RE = re.compile(r"^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$")

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "µs": MICROSECOND,  # U+00B5 micro sign
    "μs": MICROSECOND,  # U+03BC Greek small mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
_UNIT_LIST = "ns, us, µs, ms, s, m, h"

# Spellings people use that Go rejects; only for suggestions, never accepted.
_ALIASES = {
    **{name: NANOSECOND for name in ("nsec", "nsecs", "nanosecond", "nanoseconds")},
    **{name: MICROSECOND for name in ("usec", "usecs", "microsecond", "microseconds")},
    **{name: MILLISECOND for name in ("msec", "msecs", "millis", "millisecond", "milliseconds")},
    **{name: SECOND for name in ("sec", "secs", "second", "seconds")},
    **{name: MINUTE for name in ("min", "mins", "minute", "minutes")},
    **{name: HOUR for name in ("hr", "hrs", "hour", "hours")},
    **{name: 24 * HOUR for name in ("d", "day", "days")},
    **{name: 7 * 24 * HOUR for name in ("w", "wk", "wks", "week", "weeks")},
}

_U63 = 1 << 63
_GO_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
# Used only on the error path; re's own cache compiles them on first use.
_LENIENT_PART = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([^\s0-9.+-]*)\s*"
_BARE_NUMBER = r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"


class DurationError(ValueError):
    """A duration that does not parse; `suggestion` is a corrected text when one is obvious."""

    def __init__(
        self, message: str, text: object = None, suggestion: str | None = None, reason: str = ""
    ):
        super().__init__(message)
        self.text = text
        self.suggestion = suggestion
        #: The problem alone ("unknown unit "d""), for messages that name the field themselves.
        self.reason = reason or message


# --------------------------------------------------------------------------- Go


def parse_go_duration(text: str) -> int:
    """Nanoseconds for `text`, exactly as Go's `time.ParseDuration` computes them."""
    if type(text) is not str:
        raise _not_text(text)
    return _parse_go(text)


@lru_cache(maxsize=2048)
def _parse_go(s: str) -> int:
    # Mirrors src/time/format.go ParseDuration step by step, including its
    # float64 step for fractions, so results match Go bit for bit.
    n = len(s)
    pos = 0
    neg = False
    if n and (s[0] == "-" or s[0] == "+"):
        neg = s[0] == "-"
        pos = 1
    if n - pos == 1 and s[pos] == "0":
        return 0
    if pos == n:
        raise _go_error(s, "invalid", at=(pos, pos))
    d = 0
    while pos < n:
        c = s[pos]
        if not (c == "." or "0" <= c <= "9"):
            raise _go_error(s, "invalid", at=(pos, pos))
        # Same spans as Go's loops: [0-9]*, then "." [0-9]*, then the unit is
        # everything up to the next digit or ".".
        m = _GO_PART.match(s, pos)
        int_digits, frac_digits, unit_text = m.group(1, 2, 3)
        if not int_digits and not frac_digits:
            raise _go_error(s, "invalid", at=(pos, pos))
        v = _leading_int(int_digits)
        if v is None:
            raise _go_error(s, "overflow")
        if not unit_text:
            raise _go_error(s, "missing-unit", at=(pos, m.start(3)))
        unit = _UNITS.get(unit_text)
        if unit is None:
            raise _go_error(s, "unknown-unit", at=(m.start(3), m.end(3)))
        if v > _U63 // unit:
            raise _go_error(s, "overflow")
        v *= unit
        if frac_digits:
            f, scale = _leading_fraction(frac_digits)
            if f > 0:
                # Go: uint64(float64(f) * (float64(unit) / scale)); Python floats are
                # IEEE binary64 too and int() truncates like the uint64 conversion.
                v += int(float(f) * (float(unit) / scale))
                if v > _U63:
                    raise _go_error(s, "overflow")
        d += v
        if d > _U63:
            raise _go_error(s, "overflow")
        pos = m.end()
    if neg:
        return -d
    if d > MAX_GO_DURATION:
        raise _go_error(s, "overflow")
    return d


def _leading_int(digits: str) -> int | None:
    """Go's leadingInt: the digits' value, or None past 1<<63."""
    digits = digits.lstrip("0")
    if len(digits) > 19:  # also keeps int() clear of its digit limit
        return None
    v = int(digits) if digits else 0
    return None if v > _U63 else v


def _leading_fraction(digits: str) -> tuple[int, float]:
    """Go's leadingFraction: digits kept while the value stays <= 1<<63, and 10**kept as a float."""
    x = 0
    scale = 1.0
    for ch in digits:
        if x > 922337203685477580:  # (1<<63 - 1) // 10
            break
        y = x * 10 + (ord(ch) - 48)
        if y > _U63:
            break
        x = y
        scale *= 10.0
    return x, scale


def format_go_duration(ns: int) -> str:
    """Go's `Duration.String()`: `1h30m0s`, `1.5s`, `100ms`, `1µs`, `0s`, `-1m0s`."""
    if not MIN_GO_DURATION <= ns <= MAX_GO_DURATION:
        raise DurationError(f"{ns} ns is outside a Go duration (int64 nanoseconds)", ns)
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u == 0:
            return "0s"
        if u < MICROSECOND:
            out = f"{u}ns"
        elif u < MILLISECOND:
            out = _decimal(u, 3) + "µs"
        else:
            out = _decimal(u, 6) + "ms"
    else:
        secs, nanos = divmod(u, SECOND)
        out = _decimal(secs % 60 * SECOND + nanos, 9) + "s"
        mins = secs // 60
        if mins:
            hours, mins = divmod(mins, 60)
            out = (f"{hours}h" if hours else "") + f"{mins}m" + out
    return "-" + out if neg else out


def _decimal(value: int, places: int) -> str:
    """value / 10**places with trailing zeros (and a bare point) dropped."""
    whole, frac = divmod(value, 10**places)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:0{places}d}".rstrip("0")


# ------------------------------------------------------------------------- Flux


def parse_flux_duration(text: str, allow_hours: bool = True) -> int:
    """Nanoseconds for a Flux duration field, after checking the CRD pattern.

    `allow_hours=False` is the pattern of the source, registry and provider
    `timeout` fields, which has no `h`.
    """
    if type(text) is not str:
        raise _not_text(text)
    pattern = FLUX_DURATION_RE if allow_hours else FLUX_TIMEOUT_NO_HOURS_RE
    if pattern.fullmatch(text):
        return parse_go_duration(text)
    raise _flux_error(text, pattern, allow_hours)


def _flux_error(text: str, pattern: re.Pattern[str], allow_hours: bool) -> DurationError:
    what = "Flux duration" if allow_hours else "Flux timeout (no hours)"
    try:
        ns = parse_go_duration(text)
    except DurationError as go:
        reason = go.reason
        value = _lenient_ns(text)
        in_range = value is not None and 0 <= value <= MAX_GO_DURATION
        fix = _compact(value, hours=allow_hours, flux=True) if in_range else None
    else:
        fix = None if ns < 0 else _compact(ns, hours=allow_hours, flux=True)
        body = text.lstrip("+-")
        if body == "0":
            reason = "even zero needs a unit"
        elif ns < 0:
            reason = "it cannot be negative"
        elif body != text:
            reason = "no sign allowed"
        elif not allow_hours and "h" in body:
            reason = "hours are not allowed in this field"
        elif any(unit in body for unit in ("ns", "us", "µs", "μs")):
            reason = "the smallest unit is ms"
        elif re.search(r"(^|[^0-9])\.", body):
            reason = "a digit is needed before the point"
        elif re.search(r"\.($|[^0-9])", body):
            reason = "a digit is needed after the point"
        else:
            reason = "Go accepts it but the CRD pattern does not"
    if fix == text:
        fix = None
    hint = f'write "{fix}"; ' if fix else ""
    return DurationError(
        f'"{_esc(text)}" is not a {what}: {reason} ({hint}must match {pattern.pattern})',
        text, fix, reason,
    )


# --------------------------------------------------------------------- protobuf


def parse_proto_duration(text: str) -> int:
    """Nanoseconds for protobuf Duration JSON (`3600s`, `1.5s`, `-.1s`), as protojson reads it."""
    if type(text) is not str:
        raise _not_text(text, proto=True)
    if not PROTO_DURATION_RE.fullmatch(text):
        raise _proto_error(text)
    body = text[:-1]
    neg = body[0] == "-"
    if body[0] in "+-":
        body = body[1:]
    whole, _, frac = body.partition(".")
    if len(whole) > 19:  # protojson's ParseInt(…, 64) fails; also far out of range
        raise _proto_range_error(text)
    secs = int(whole) if whole else 0
    if secs > MAX_PROTO_SECONDS:
        raise _proto_range_error(text)
    ns = secs * SECOND + (int(frac.ljust(9, "0")) if frac else 0)
    return -ns if neg else ns


def to_proto_duration(ns: int) -> str:
    """The protobuf JSON text protojson writes for `ns`: `3600s`, `1.500s`, `0.000000001s`."""
    neg = ns < 0
    secs, nanos = divmod(-ns if neg else ns, SECOND)
    if secs > MAX_PROTO_SECONDS:
        raise DurationError(
            f"{ns} ns is outside the protobuf Duration range (±{MAX_PROTO_SECONDS}s)", ns
        )
    # protojson: "%d.%09d", then TrimSuffix "000", "000", ".000" -> 0, 3, 6 or 9 digits.
    text = f"{secs}.{nanos:09d}"
    for suffix in ("000", "000", ".000"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return ("-" if neg else "") + text + "s"


def suggest_proto_duration(text: str) -> str | None:
    """The protobuf form of a duration written Go/Flux style (`1h` -> `3600s`), a bare number of
    seconds (`3600` -> `3600s`) or with a spelled-out unit (`1 day`); None when nothing sensible.

    Text that already is protobuf Duration JSON comes back unchanged.
    """
    if type(text) is not str:
        if isinstance(text, bool) or not isinstance(text, (int, float)):
            return None
        text = str(text)
    stripped = text.strip()
    if PROTO_DURATION_RE.fullmatch(stripped):
        try:
            parse_proto_duration(stripped)
        except DurationError:
            return None
        return stripped
    ns = _lenient_ns(stripped, bare_unit=SECOND)
    if ns is None:
        return None
    try:
        return to_proto_duration(ns)
    except DurationError:
        return None


def _proto_error(text: str) -> DurationError:
    fix = suggest_proto_duration(text)
    stripped = text.strip()
    if stripped != text and PROTO_DURATION_RE.fullmatch(stripped):
        reason = "spaces are not allowed"
    elif re.fullmatch(_BARE_NUMBER, stripped):
        reason = 'seconds need the unit "s"'
    elif re.fullmatch(r"[-+]?0[0-9]+(\.[0-9]*)?s", stripped):
        reason = "no leading zeros"
    elif re.fullmatch(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]*)s", stripped) and "." in stripped:
        reason = "at most 9 digits after the point (nanoseconds)"
    elif fix is not None:
        reason = 'GitLab reads it as protobuf JSON: seconds only, ending in "s"'
    else:
        reason = 'expected seconds ending in "s", e.g. "3600s" or "1.5s"'
    hint = f' (write "{fix}")' if fix is not None else ""
    message = f'"{_esc(text)}" is not a protobuf duration: {reason}{hint}'
    return DurationError(message, text, fix, reason)


def _proto_range_error(text: str) -> DurationError:
    reason = (
        f"out of range: protobuf durations are limited to ±{MAX_PROTO_SECONDS}s"
        " (about 10,000 years)"
    )
    return DurationError(f'"{_esc(text)}" is {reason}', text, None, reason)


# ---------------------------------------------------------------- messages, help


def _go_error(s: str, kind: str, at: tuple[int, int] | None = None) -> DurationError:
    quoted = f'"{_esc(s)}"'
    fix: str | None = None
    hint = ""
    if kind == "overflow":
        largest = format_go_duration(MAX_GO_DURATION)
        reason = f"out of range: a Go duration is at most {largest} (about 292 years)"
        return DurationError(f"{quoted} is {reason}", s, None, reason)
    if not s:
        reason = "it is empty"
        return DurationError(f'"" is not a duration: {reason} (e.g. "30s")', s, None, reason)
    if any(c.isspace() and (c.isprintable() or c in "\t\n\r\v\f") for c in s):
        reason = "spaces are not allowed"
        joined = "".join(s.split())
        fix = joined if _valid_go(joined) else _suggest_go(s)
        hint = f' (write "{fix}")' if fix else ""
        return DurationError(f"{quoted} is not a duration: {reason}{hint}", s, fix, reason)
    if kind == "missing-unit":
        assert at is not None
        if re.fullmatch(_BARE_NUMBER, s):
            reason = "missing unit"
            fix = f"{s}s" if _valid_go(f"{s}s") else None
            hint = f' (e.g. "{fix}")' if fix else ""
            return DurationError(f"{quoted}: {reason}{hint}", s, fix, reason)
        reason = f'missing unit after "{_esc(s[at[0] : at[1]])}"'
        return DurationError(f"{quoted}: {reason} (units: {_UNIT_LIST})", s, None, reason)
    if kind == "unknown-unit":
        assert at is not None
        unit = s[at[0] : at[1]]
        reason = f'unknown unit "{_esc(unit)}"'
        if "-" in unit or "+" in unit:
            hint = " (a sign is allowed only at the start)"
        elif unit in ("e", "E") and at[1] < len(s):
            hint = " (exponents are not allowed)"
        else:
            fix = _suggest_go(s)
            alias = _ALIASES.get(unit.lower()) if unit != "M" else None
            if fix is not None and alias is not None and alias > HOUR:
                hint = f' (use h: "{fix}")'
            elif fix is not None:
                hint = f' (write "{fix}")'
            else:
                hint = f" (units: {_UNIT_LIST})"
        return DurationError(f"{quoted}: {reason}{hint}", s, fix, reason)
    # kind == "invalid": no number where one must start
    assert at is not None
    rest = s[at[0] :]
    if not rest:
        reason = "a number and a unit must follow the sign"
    elif rest[0] == ".":
        reason = "a point needs a digit next to it"
        hint = ' (e.g. "0.5s")'
    elif rest[0] in "+-":
        reason = "only one sign, at the start, is allowed"
    else:
        reason = f'expected a number at "{_esc(rest)}"'
        fix = _suggest_go(s)
        hint = f' (write "{fix}")' if fix else ""
    return DurationError(f"{quoted} is not a duration: {reason}{hint}", s, fix, reason)


def _valid_go(text: str) -> bool:
    try:
        _parse_go(text)
    except DurationError:
        return False
    return True


def _suggest_go(s: str) -> str | None:
    ns = _lenient_ns(s)
    if ns is None or not MIN_GO_DURATION <= ns <= MAX_GO_DURATION:
        return None
    return _compact(ns, hours=True, flux=False)


def _lenient_ns(text: str, bare_unit: int | None = SECOND) -> int | None:
    """Nanoseconds for what a person probably meant, or None.

    Accepts Go durations plus spaces, upper case, spelled-out units, days and
    weeks, and (with `bare_unit`) a bare number. Exact integer arithmetic.
    """
    s = text.strip()
    if not s or len(s) > 200:
        return None
    neg = s[0] == "-"
    if s[0] in "+-":
        s = s[1:].lstrip()
    if bare_unit is not None and re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", s):
        total = _scaled(s, bare_unit)
        return -total if neg else total
    lenient = re.compile(_LENIENT_PART)
    total = 0
    pos = 0
    seen = False
    while pos < len(s):
        m = lenient.match(s, pos)
        if m is None or m.end() == pos:
            return None
        number, unit = m.group(1), m.group(2)
        size = _UNITS.get(unit)
        if size is None:
            if unit == "M":  # month or minute? do not guess
                return None
            size = _UNITS.get(unit.lower()) or _ALIASES.get(unit.lower())
        if size is None:
            return None
        total += _scaled(number, size)
        seen = True
        pos = m.end()
    if not seen:
        return None
    return -total if neg else total


def _scaled(number: str, unit: int) -> int:
    """number * unit, truncated toward zero, without floats."""
    whole, _, frac = number.partition(".")
    frac = frac[:30]
    value = int(whole or "0") * unit
    if frac:
        value += int(frac) * unit // 10 ** len(frac)
    return value


def _compact(ns: int, hours: bool, flux: bool) -> str:
    """A short text for ns: zero parts left out (`1h`, `1h30m`, `90m` without hours).

    `flux=True` keeps to the Flux units (ms, s, m, h).
    """
    neg = ns < 0
    u = -ns if neg else ns
    if u == 0:
        return "0s"
    if u < SECOND:
        if flux or u >= MILLISECOND:
            out = _decimal(u, 6) + "ms"
        elif u >= MICROSECOND:
            out = _decimal(u, 3) + "us"
        else:
            out = f"{u}ns"
    else:
        secs, nanos = divmod(u, SECOND)
        mins, secs = divmod(secs, 60)
        h, mins = divmod(mins, 60) if hours else (0, mins)
        out = (f"{h}h" if h else "") + (f"{mins}m" if mins else "")
        if secs or nanos:
            out += _decimal(secs * SECOND + nanos, 9) + "s"
    return "-" + out if neg else out


def _not_text(value: object, proto: bool = False) -> DurationError:
    example = "3600s" if proto else "60s"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        fix = suggest_proto_duration(str(value)) if proto else None
        if fix is None and not proto and isinstance(value, int) and value >= 0:
            fix = f"{value}s"
        hint = f' (e.g. "{fix}")' if fix else f' (e.g. "{example}")'
        message = f"{value} is not a duration: it is a number, a duration is text with a unit{hint}"
        return DurationError(message, value, fix)
    return DurationError(f'{value!r} is not a duration: expected text such as "{example}"', value)


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _esc(text: str) -> str:
    """Text fit to show between double quotes: control and unprintable characters escaped."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    out = []
    for c in text:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        else:
            code = ord(c)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    return "".join(out)
