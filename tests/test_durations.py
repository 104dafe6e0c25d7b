"""Durations: Go's `time.ParseDuration` / `Duration.String`, the Flux CRD patterns and
protobuf Duration JSON.

The Go tables below are copied from Go's own tests, read from `golang/go`
`src/time/time_test.go` at f7396aaea0297a2e95b502a4075b0aed6efda89f
(`parseDurationTests`, `parseDurationErrorTests`, `durationTests`). Go's
error table contains invalid UTF-8 byte strings ("\\xffff"); a Python `str`
cannot hold those, so they are kept as the text the escapes spell.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from gitops_lint.durations import (
    FLUX_DURATION_RE,
    FLUX_TIMEOUT_NO_HOURS_RE,
    GO_DURATION_RE,
    MAX_GO_DURATION,
    MAX_PROTO_SECONDS,
    MIN_GO_DURATION,
    PROTO_DURATION_RE,
    DurationError,
    format_go_duration,
    parse_flux_duration,
    parse_go_duration,
    parse_proto_duration,
    suggest_proto_duration,
    to_proto_duration,
)

Nanosecond = 1
Microsecond = 1000 * Nanosecond
Millisecond = 1000 * Microsecond
Second = 1000 * Millisecond
Minute = 60 * Second
Hour = 60 * Minute

UNITS = {"ns": 1, "us": Microsecond, "µs": Microsecond, "μs": Microsecond,
         "ms": Millisecond, "s": Second, "m": Minute, "h": Hour}

# ------------------------------------------------------------------ Go tables

PARSE_DURATION_TESTS = [
    # simple
    ("0", 0),
    ("5s", 5 * Second),
    ("30s", 30 * Second),
    ("1478s", 1478 * Second),
    # sign
    ("-5s", -5 * Second),
    ("+5s", 5 * Second),
    ("-0", 0),
    ("+0", 0),
    # decimal
    ("5.0s", 5 * Second),
    ("5.6s", 5 * Second + 600 * Millisecond),
    ("5.s", 5 * Second),
    (".5s", 500 * Millisecond),
    ("1.0s", 1 * Second),
    ("1.00s", 1 * Second),
    ("1.004s", 1 * Second + 4 * Millisecond),
    ("1.0040s", 1 * Second + 4 * Millisecond),
    ("100.00100s", 100 * Second + 1 * Millisecond),
    # different units
    ("10ns", 10 * Nanosecond),
    ("11us", 11 * Microsecond),
    ("12µs", 12 * Microsecond),  # U+00B5
    ("12μs", 12 * Microsecond),  # U+03BC
    ("13ms", 13 * Millisecond),
    ("14s", 14 * Second),
    ("15m", 15 * Minute),
    ("16h", 16 * Hour),
    # composite durations
    ("3h30m", 3 * Hour + 30 * Minute),
    ("10.5s4m", 4 * Minute + 10 * Second + 500 * Millisecond),
    ("-2m3.4s", -(2 * Minute + 3 * Second + 400 * Millisecond)),
    ("1h2m3s4ms5us6ns",
     1 * Hour + 2 * Minute + 3 * Second + 4 * Millisecond + 5 * Microsecond + 6 * Nanosecond),
    ("39h9m14.425s", 39 * Hour + 9 * Minute + 14 * Second + 425 * Millisecond),
    # large value
    ("52763797000ns", 52763797000 * Nanosecond),
    # more than 9 digits after decimal point, see https://golang.org/issue/6617
    ("0.3333333333333333333h", 20 * Minute),
    # 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
    ("9007199254740993ns", (1 << 53) + 1),
    # largest duration that can be represented by int64 in nanoseconds
    ("9223372036854775807ns", (1 << 63) - 1),
    ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1),
    ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)),
    ("-9223372036s854ms775us808ns", -(1 << 63)),
    # largest negative value
    ("-9223372036854775808ns", -(1 << 63)),
    # largest negative round trip value, see https://golang.org/issue/48629
    ("-2562047h47m16.854775808s", -(1 << 63)),
    # huge string; issue 15011.
    ("0.100000000000000000000h", 6 * Minute),
    # This value tests the first overflow check in leadingFraction.
    ("0.830103483285477580700h", 49 * Minute + 48 * Second + 372539827 * Nanosecond),
]

PARSE_DURATION_ERROR_TESTS = [
    # invalid
    "",
    "3",
    "-",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "\x85\x85",
    "\xffff",
    "hello \xffff world",
    "\ufffd",  # utf8.RuneError
    "\ufffd hello \ufffd world",
    # overflow
    "9223372036854775810ns",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854776us",
    "3000000h",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
]

# Go's durationTests (Duration.String), plus the negated form of each positive value.
DURATION_STRING_TESTS = [
    ("0s", 0),
    ("1ns", 1 * Nanosecond),
    ("1.1µs", 1100 * Nanosecond),
    ("2.2ms", 2200 * Microsecond),
    ("3.3s", 3300 * Millisecond),
    ("4m5s", 4 * Minute + 5 * Second),
    ("4m5.001s", 4 * Minute + 5001 * Millisecond),
    ("5h6m7.001s", 5 * Hour + 6 * Minute + 7001 * Millisecond),
    ("8m0.000000001s", 8 * Minute + 1 * Nanosecond),
    ("2562047h47m16.854775807s", (1 << 63) - 1),
    ("-2562047h47m16.854775808s", -(1 << 63)),
]


@pytest.mark.parametrize(("text", "want"), PARSE_DURATION_TESTS)
def test_parse_go_duration_matches_go_table(text, want):
    assert parse_go_duration(text) == want


@pytest.mark.parametrize("text", PARSE_DURATION_ERROR_TESTS)
def test_parse_go_duration_errors_match_go_table(text):
    with pytest.raises(DurationError) as info:
        parse_go_duration(text)
    assert info.value.text == text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("want", "ns"), DURATION_STRING_TESTS)
def test_format_go_duration_matches_go_table(want, ns):
    assert format_go_duration(ns) == want
    if ns > 0:
        assert format_go_duration(-ns) == "-" + want


def test_go_round_trip_extremes():
    # TestParseDurationRoundTrip, https://golang.org/issue/48629
    for ns in (MAX_GO_DURATION, MIN_GO_DURATION):
        assert parse_go_duration(format_go_duration(ns)) == ns


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1h30m", "1h30m0s"),
        ("90s", "1m30s"),
        ("1.5s", "1.5s"),
        ("500ms", "500ms"),
        ("0", "0s"),
        ("-1m", "-1m0s"),
        ("1us", "1µs"),
        ("1μs", "1µs"),
        ("1ns", "1ns"),
        ("1h", "1h0m0s"),
        ("3600s", "1h0m0s"),
        ("10m", "10m0s"),
        ("1.5µs", "1.5µs"),
        ("100ns", "100ns"),
        ("72h3m0.5s", "72h3m0.5s"),
        ("9223372036854775807ns", "2562047h47m16.854775807s"),
    ],
)
def test_format_round_trip_known_cases(text, want):
    assert format_go_duration(parse_go_duration(text)) == want


def test_format_go_duration_rejects_out_of_int64():
    with pytest.raises(DurationError):
        format_go_duration(MAX_GO_DURATION + 1)
    with pytest.raises(DurationError):
        format_go_duration(MIN_GO_DURATION - 1)


def test_go_keeps_its_float64_step_for_fractions():
    # Go computes f * (unit / scale) in float64 and truncates. Exact arithmetic
    # would give 19m59.999999999s for Go's own table entry, and one nanosecond
    # more for the second case; Go (and we) give these values.
    assert parse_go_duration("0.3333333333333333333h") == 20 * Minute
    assert Fraction(3333333333333333333, 10**19) * Hour < 20 * Minute
    assert parse_go_duration("22.23353643125250h") == 80040731152508
    assert Fraction(2223353643125250, 10**14) * Hour == 80040731152509


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10 m", '"10 m" is not a duration: spaces are not allowed (write "10m")'),
        ("1d", '"1d": unknown unit "d" (use h: "24h")'),
        ("1d12h", '"1d12h": unknown unit "d" (use h: "36h")'),
        ("90", '"90": missing unit (e.g. "90s")'),
        ("", '"" is not a duration: it is empty (e.g. "30s")'),
        ("10min", '"10min": unknown unit "min" (write "10m")'),
        ("1H", '"1H": unknown unit "H" (write "1h")'),
        ("1h-30m", '"1h-30m": unknown unit "h-" (a sign is allowed only at the start)'),
        ("1e3s", '"1e3s": unknown unit "e" (exponents are not allowed)'),
        (".s", '".s" is not a duration: a point needs a digit next to it (e.g. "0.5s")'),
        ("1m\n", '"1m\\n" is not a duration: spaces are not allowed (write "1m")'),
    ],
)
def test_go_error_messages(text, message):
    with pytest.raises(DurationError) as info:
        parse_go_duration(text)
    assert str(info.value) == message


def test_go_error_suggestion_and_reason():
    with pytest.raises(DurationError) as info:
        parse_go_duration("1d")
    assert info.value.suggestion == "24h"
    assert info.value.reason == 'unknown unit "d"'
    with pytest.raises(DurationError) as info:
        parse_go_duration("3000000h")
    assert "out of range" in str(info.value) and "2562047h47m16.854775807s" in str(info.value)


def test_non_text_is_a_duration_error():
    with pytest.raises(DurationError, match='e.g. "60s"'):
        parse_go_duration(60)  # type: ignore[arg-type]
    with pytest.raises(DurationError):
        parse_flux_duration(None)  # type: ignore[arg-type]
    with pytest.raises(DurationError, match='"3600s"'):
        parse_proto_duration(3600)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- Flux


@pytest.mark.parametrize(
    ("text", "go", "flux"),
    [
        ("1.5h", 90 * Minute, True),
        ("1h30m", 90 * Minute, True),
        ("90s", 90 * Second, True),
        ("500ms", 500 * Millisecond, True),
        ("0s", 0, True),
        ("1m0s", Minute, True),
        ("0", 0, False),
        ("-1s", -Second, False),
        ("+1s", Second, False),
        ("1us", Microsecond, False),
        ("100ns", 100, False),
        (".5s", 500 * Millisecond, False),
        ("5.s", 5 * Second, False),
        ("1d", None, False),
        ("10 m", None, False),
        ("1m\n", None, False),
    ],
)
def test_flux_durations(text, go, flux):
    if go is None:
        with pytest.raises(DurationError):
            parse_go_duration(text)
    else:
        assert parse_go_duration(text) == go
    if flux:
        assert parse_flux_duration(text) == go
    else:
        with pytest.raises(DurationError) as info:
            parse_flux_duration(text)
        assert FLUX_DURATION_RE.pattern in str(info.value)


@pytest.mark.parametrize(
    ("text", "allow_hours", "fix"),
    [
        ("0", True, "0s"),
        ("-0", True, "0s"),
        ("+1s", True, "1s"),
        (".5s", True, "500ms"),
        ("5.s", True, "5s"),
        ("1us", True, "0.001ms"),
        ("1d", True, "24h"),
        ("10 m", True, "10m"),
        ("1h", False, "60m"),
        ("1h30m", False, "90m"),
        ("1d", False, "1440m"),
        ("-1s", True, None),
    ],
)
def test_flux_suggestions(text, allow_hours, fix):
    with pytest.raises(DurationError) as info:
        parse_flux_duration(text, allow_hours=allow_hours)
    assert info.value.suggestion == fix
    if fix is not None:
        assert f'write "{fix}"' in str(info.value)
        assert parse_flux_duration(fix, allow_hours=allow_hours) == parse_go_duration(fix)


def test_flux_messages():
    with pytest.raises(DurationError) as info:
        parse_flux_duration("0")
    assert str(info.value) == (
        '"0" is not a Flux duration: even zero needs a unit '
        '(write "0s"; must match ^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$)'
    )
    with pytest.raises(DurationError) as info:
        parse_flux_duration("1h", allow_hours=False)
    assert "hours are not allowed" in str(info.value)
    assert FLUX_TIMEOUT_NO_HOURS_RE.pattern in str(info.value)


def test_flux_no_hours_pattern():
    assert parse_flux_duration("60m", allow_hours=False) == Hour
    assert parse_flux_duration("90s", allow_hours=False) == 90 * Second
    with pytest.raises(DurationError):
        parse_flux_duration("1h", allow_hours=False)
    assert FLUX_TIMEOUT_NO_HOURS_RE.fullmatch("1h") is None
    assert FLUX_DURATION_RE.fullmatch("1h")


def test_flux_pattern_match_but_go_overflow():
    # The API server accepts it (pattern only); the controller cannot decode it.
    assert FLUX_DURATION_RE.fullmatch("3000000h")
    with pytest.raises(DurationError, match="out of range"):
        parse_flux_duration("3000000h")


# ------------------------------------------------------------------- protobuf


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1s", Second),
        ("0.1s", 100 * Millisecond),
        ("1.s", Second),
        (".1s", 100 * Millisecond),
        ("+1s", Second),
        ("-1s", -Second),
        ("-.1s", -100 * Millisecond),
        ("3600s", Hour),
        ("0s", 0),
        ("-0.5s", -500 * Millisecond),
        (".s", 0),  # protojson quirk
        ("0.000000001s", 1),
        ("315576000000s", MAX_PROTO_SECONDS * Second),
        ("-315576000000.999999999s", -(MAX_PROTO_SECONDS * Second + 999999999)),
    ],
)
def test_parse_proto_duration_accepts(text, ns):
    assert PROTO_DURATION_RE.fullmatch(text)
    assert parse_proto_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("1h", "3600s"),
        ("60m", "3600s"),
        ("1h0m0s", "3600s"),
        ("500ms", "0.500s"),
        ("3600", "3600s"),
        ("01s", "1s"),
        ("1.1234567891s", "1.123456789s"),
        (" 3600s", "3600s"),
        ("s", None),
        ("", None),
        ("abc", None),
        ("315576000001s", None),
        ("1s\n", "1s"),
    ],
)
def test_parse_proto_duration_rejects(text, fix):
    with pytest.raises(DurationError) as info:
        parse_proto_duration(text)
    assert info.value.suggestion == fix


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (Hour, "3600s"),
        (1500 * Millisecond, "1.500s"),
        (1, "0.000000001s"),
        (1500, "0.000001500s"),
        (100 * Millisecond, "0.100s"),
        (-500 * Millisecond, "-0.500s"),
        (Second + 1, "1.000000001s"),
        (MAX_PROTO_SECONDS * Second + 999999999, "315576000000.999999999s"),
    ],
)
def test_to_proto_duration(ns, text):
    assert to_proto_duration(ns) == text


def test_to_proto_duration_range():
    with pytest.raises(DurationError):
        to_proto_duration((MAX_PROTO_SECONDS + 1) * Second)
    with pytest.raises(DurationError):
        to_proto_duration(-(MAX_PROTO_SECONDS + 1) * Second)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1h", "3600s"),
        ("30m", "1800s"),
        ("3600", "3600s"),
        ("1h30m", "5400s"),
        ("90s", "90s"),
        ("1.5h", "5400s"),
        ("-1h", "-3600s"),
        ("10 m", "600s"),
        ("1d", "86400s"),
        ("0", "0s"),
        ("3600s", "3600s"),
        ("abc", None),
        ("", None),
        ("1M", None),
        ("1x", None),
    ],
)
def test_suggest_proto_duration(text, want):
    assert suggest_proto_duration(text) == want


def test_suggest_proto_duration_from_yaml_scalars():
    assert suggest_proto_duration(3600) == "3600s"  # type: ignore[arg-type]
    assert suggest_proto_duration(True) is None  # type: ignore[arg-type]
    assert suggest_proto_duration(None) is None  # type: ignore[arg-type]


def test_patterns_use_fullmatch_semantics():
    # Python's `$` matches before a final newline; Go's RE2 (the API server) does not.
    for pattern in (FLUX_DURATION_RE, FLUX_TIMEOUT_NO_HOURS_RE, PROTO_DURATION_RE, GO_DURATION_RE):
        assert pattern.fullmatch("1s\n") is None
    with pytest.raises(DurationError):
        parse_flux_duration("1m\n")
    with pytest.raises(DurationError):
        parse_proto_duration("1s\n")


# ----------------------------------------------------------------- properties

int64s = st.integers(min_value=MIN_GO_DURATION, max_value=MAX_GO_DURATION)


@given(int64s)
@example(MAX_GO_DURATION)
@example(MIN_GO_DURATION)
@example(0)
def test_property_format_then_parse_is_identity(ns):
    text = format_go_duration(ns)
    assert parse_go_duration(text) == ns
    assert GO_DURATION_RE.fullmatch(text)


@st.composite
def go_components(draw):
    """(integer digits, fraction digits or None, unit) with at least one digit."""
    int_digits = draw(st.one_of(
        st.from_regex(r"[0-9]{0,4}", fullmatch=True),
        st.from_regex(r"[0-9]{0,25}", fullmatch=True),
        st.integers(0, MAX_GO_DURATION).map(str),
    ))
    frac_digits = draw(st.one_of(
        st.none(),
        st.from_regex(r"[0-9]{0,12}", fullmatch=True),
        st.from_regex(r"[0-9]{0,40}", fullmatch=True),
        st.from_regex(r"0{0,30}[0-9]{0,20}", fullmatch=True),
        st.from_regex(r"9{1,25}", fullmatch=True),
    ))
    assume(int_digits or frac_digits)
    unit = draw(st.sampled_from(sorted(UNITS)))
    return int_digits, frac_digits, unit


def _fraction_kept(digits: str) -> str:
    """Go's leadingFraction keeps the longest prefix whose value is at most 1<<63."""
    kept = 0
    for k in range(1, len(digits) + 1):
        if int(digits[:k]) > 1 << 63:
            break
        kept = k
    return digits[:kept]


def _oracle(components) -> tuple[int, int]:
    """Bounds (low, high) on Go's result from exact `Fraction` arithmetic.

    Per component Go adds the integer part exactly and trunc(f * unit / scale)
    computed in float64. The float64 step is within a relative few ulps of the
    exact value (plus one rounding of 10**k per fraction digit), so the result is
    the exact truncation unless the exact value lies within that error of an
    integer, where it may land on either side.
    """
    low = high = 0
    for int_digits, frac_digits, unit in components:
        size = UNITS[unit]
        whole = int(int_digits or "0") * size
        low += whole
        high += whole
        if frac_digits:
            kept = _fraction_kept(frac_digits)
            f, k = int(kept or "0"), len(kept)
            if f == 0:
                continue
            exact = Fraction(f * size, 10**k)
            if f < 2**53 and size % 10**k == 0:
                # float64(f), unit/scale and their product are all exact here.
                low += int(exact)
                high += int(exact)
                continue
            # Roundings: f, 10**k (past 1e22), the division and the product.
            err = exact * Fraction(k + 4, 2**52)
            low += int(exact - err) if exact > err else 0
            high += int(exact + err)
    return low, high


@given(st.sampled_from(["", "+", "-"]), st.lists(go_components(), min_size=1, max_size=6))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_property_go_grammar_parses_like_exact_arithmetic(sign, components):
    text = sign + "".join(i + ("." + f if f is not None else "") + u for i, f, u in components)
    assert GO_DURATION_RE.fullmatch(text)
    low, high = _oracle(components)
    limit = (1 << 63) if sign == "-" else (1 << 63) - 1
    if low > limit:
        with pytest.raises(DurationError, match="out of range"):
            parse_go_duration(text)
        return
    assume(high <= limit)
    got = parse_go_duration(text)
    magnitude = -got if sign == "-" else got
    # Exact whenever Go's float64 step cannot have crossed an integer.
    assert low <= magnitude <= high


@given(st.sampled_from(["", "-"]), st.lists(st.tuples(
    st.integers(0, 10**6).map(str),
    st.one_of(st.none(), st.from_regex(r"[0-9]{1,9}", fullmatch=True)),
    st.sampled_from(sorted(UNITS)),
), min_size=1, max_size=4))
@example("", [("562048", None, "h"), ("1000000", None, "h"), ("1000000", None, "h")])  # past int64
def test_property_short_fractions_are_exact(sign, components):
    # Up to 9 fraction digits Go's result is the exact truncation: for s, m and h
    # the division unit/10**k is exact; for ns, us and ms an exhaustive check of
    # every integer-valued case (the only ones a float error could push down)
    # found no difference.
    text = sign + "".join(i + ("." + f if f else "") + u for i, f, u in components)
    want = sum(int(Fraction(f"{i}.{f or 0}") * UNITS[u]) for i, f, u in components)
    if want > (2**63 if sign else 2**63 - 1):  # past int64: Go refuses it (components are never negative)
        with pytest.raises(DurationError, match="out of range"):
            parse_go_duration(text)
        return
    assert parse_go_duration(text) == (-want if sign else want)


GRAMMAR_ALPHABET = "0123456789.+-nsuµμmhd \t\nHeE"


@given(st.one_of(st.text(), st.text(alphabet=GRAMMAR_ALPHABET, max_size=30)))
@settings(max_examples=600)
@example("\x85\x85")
@example("1" * 5000 + "s")
@example("0." + "0" * 400 + "1h")
@example("." * 50)
def test_property_arbitrary_text_only_raises_duration_error(text):
    try:
        value = parse_go_duration(text)
    except DurationError as error:
        assert str(error)
    else:
        assert MIN_GO_DURATION <= value <= MAX_GO_DURATION
        assert GO_DURATION_RE.fullmatch(text)
    if GO_DURATION_RE.fullmatch(text) is None:
        with pytest.raises(DurationError):
            parse_go_duration(text)
    for allow_hours in (True, False):
        try:
            parse_flux_duration(text, allow_hours=allow_hours)
        except DurationError as error:
            assert str(error)
        else:
            pattern = FLUX_DURATION_RE if allow_hours else FLUX_TIMEOUT_NO_HOURS_RE
            assert pattern.fullmatch(text)
    try:
        parse_proto_duration(text)
    except DurationError as error:
        assert str(error)
    else:
        assert PROTO_DURATION_RE.fullmatch(text)
    suggestion = suggest_proto_duration(text)
    if suggestion is not None:
        parse_proto_duration(suggestion)


@given(st.text(alphabet=GRAMMAR_ALPHABET, max_size=20))
@example("+99999999999h")
@example("9999999999")
@example("99999999999 h")
@example("99999999999d")
@example("1 d")
def test_property_suggestions_parse(text):
    for allow_hours in (True, False):
        try:
            parse_flux_duration(text, allow_hours=allow_hours)
        except DurationError as error:
            if error.suggestion is not None:
                parse_flux_duration(error.suggestion, allow_hours=allow_hours)
    try:
        parse_go_duration(text)
    except DurationError as error:
        if error.suggestion is not None:
            parse_go_duration(error.suggestion)


PROTO_MAX_NS = MAX_PROTO_SECONDS * Second + 999_999_999


@given(st.one_of(
    st.integers(-PROTO_MAX_NS, PROTO_MAX_NS),
    st.integers(-10**12, 10**12),
    st.integers(-999, 999).map(lambda n: n * 1_000_000),
))
@example(PROTO_MAX_NS)
@example(-PROTO_MAX_NS)
def test_property_proto_round_trip(ns):
    text = to_proto_duration(ns)
    assert PROTO_DURATION_RE.fullmatch(text)
    assert parse_proto_duration(text) == ns
    fraction = re.search(r"\.([0-9]*)s$", text)
    assert fraction is None or len(fraction.group(1)) in (3, 6, 9)


@given(int64s)
def test_property_go_text_suggests_equal_proto(ns):
    assert parse_proto_duration(suggest_proto_duration(format_go_duration(ns))) == ns


def test_cron_specs_as_robfig_cron_reads_them() -> None:
    """ParseStandard: five fields of numbers, names, `*`/`?`, ranges and steps within bounds, or a descriptor."""
    from gitops_lint.cron import cron_problem

    for spec in ("0 0 * * *", "*/5 * * * *", "0 12 * * MON-FRI", "@daily", "@every 1h30m", "5/10 * * * *",
                 "CRON_TZ=Europe/Berlin 0 1 * * *", "0 0 1-31/2 JAN,dec SUN", "? * * * *"):
        assert cron_problem(spec) is None, spec
    for spec in ("0 0 0 * * *", "* * * *", "61 * * * *", "0 0 * * 7", "*/0 * * * *", "0-5-6 * * * *",
                 "@every soon", "@often", "", "5-1 * * * *", "x * * * *"):
        assert cron_problem(spec), spec
