"""Cron specs as robfig/cron v3 `ParseStandard` reads them (the GitLab agent's container scanning `cadence`)."""

from __future__ import annotations

_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
#: (name, lowest, highest, names) of the five fields, in order.
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, _MONTHS),
           ("day of week", 0, 6, _DAYS))
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def cron_problem(spec: str) -> str | None:
    """Why robfig/cron's standard parser refuses `spec` (None: it takes it): five fields (minute, hour, day of
    month, month, day of week) of `*`, `?`, numbers or names, ranges `a-b` and steps `/n`, after an optional
    `TZ=`/`CRON_TZ=` zone; or a descriptor (`@daily`, `@every 1h`)."""
    from gitops_lint.durations import DurationError, parse_go_duration

    fields = spec.split()
    if fields and fields[0].startswith(("TZ=", "CRON_TZ=")):
        fields = fields[1:]  # the zone's name is looked up at run time: not judged here
    if not fields:
        return "it is empty"
    if fields[0].startswith("@"):
        if fields[0] == "@every":
            try:
                parse_go_duration(" ".join(fields[1:]))
            except DurationError:
                return f"@every needs a Go duration, not {' '.join(fields[1:])!r}"
            return None
        return None if len(fields) == 1 and fields[0].lower() in _DESCRIPTORS else f"{fields[0]!r} is no descriptor"
    if len(fields) != 5:
        return f"it has {len(fields)} fields; the standard form has 5 (minute hour day-of-month month day-of-week)"
    for text, (name, low, high, names) in zip(fields, _FIELDS):
        for part in text.split(","):
            problem = _range_problem(part, low, high, names)
            if problem:
                return f"{name} {text!r}: {problem}"
    return None


def _range_problem(expression: str, low: int, high: int, names: dict[str, int]) -> str | None:
    range_and_step = expression.split("/")
    bounds = range_and_step[0].split("-")
    if bounds[0] in ("*", "?"):
        start, end = low, high
        if len(bounds) > 1:
            return "a range cannot start at *"
    else:
        start = _number(bounds[0], names)
        end = start if len(bounds) == 1 else _number(bounds[1], names) if len(bounds) == 2 else None
        if len(bounds) > 2:
            return "too many hyphens"
        if start is None or end is None:
            return f"{range_and_step[0]!r} is no number or name"
    if len(range_and_step) > 2:
        return "too many slashes"
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {})
        if not step:
            return f"step {range_and_step[1]!r} is no number above 0"
        if len(bounds) == 1 and bounds[0] not in ("*", "?"):
            end = high  # `5/10` runs from 5 to the end
    if start < low or end > high:
        return f"outside {low}-{high}"
    if start > end:
        return "its start is after its end"
    return None


def _number(text: str, names: dict[str, int]) -> int | None:
    if text.lower() in names:
        return names[text.lower()]
    return int(text) if text.isdigit() else None
