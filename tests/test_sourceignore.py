"""Flux's `.sourceignore` matching (`view.sourceignore`), a port of `fluxcd/pkg/sourceignore`: go-git's
rules, not git's, and `storage.SourceIgnoreFilter`'s defaults."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lint.view.sourceignore import _VCS, IgnorePattern, artifact_filter, read_patterns


@pytest.mark.parametrize(("rules", "path", "is_dir", "left_out"), [
    ("", "x.png", False, True),  # no rule: the defaults
    ("", "a/.sops.yaml", False, True),
    ("", ".github/workflows/ci.yaml", False, True),
    ("", "apps/cm.yaml", False, False),
    ("*.drawio\n", "x.png", False, False),  # a rule: no default but version control's
    ("*.drawio\n", ".git/config", False, True),
    ("/apps/web/values.yaml\n", "apps/web/values.yaml", False, True),
    ("/apps/web/values.yaml\n", "x/apps/web/values.yaml", False, False),
    ("values.yaml\n", "deep/down/values.yaml", False, True),
    ("extra/\n", "a/extra/cm.yaml", False, True),
    ("extra/\n", "a/extra", False, False),  # a folder pattern: a file of that name stays
    ("extra/\n", "a/extra", True, True),
    ("*-dev.yaml\n!apps/podinfo/\n", "apps/podinfo/cm-dev.yaml", False, False),  # last match wins, per file
    ("*-dev.yaml\n!apps/podinfo/\n", "apps/other/cm-dev.yaml", False, True),
    ("/*\n!/clusters/\n", "clusters/prod/a.yaml", False, False),
    ("/*\n!/clusters/\n", "apps/a.yaml", False, True),
    ("**/x.yaml\n", "a/b/x.yaml", False, True),
    ("foo/**\n", "foo/bar/baz", False, True),
    ("a/**/b\n", "a/x/y/b", False, True),
    ("a/x**/b\n", "a/xy/b", False, False),  # `**` inside a part of a path pattern matches nothing
    ("a**b\n", "axyb", False, True),  # in a name pattern it is two `*`
    ("  extra.yaml\n", "extra.yaml", False, False),  # leading spaces belong to the pattern
    ("extra.yaml   \n", "extra.yaml", False, True),  # trailing ones do not
    ("extra.yaml\\ \n", "extra.yaml ", False, True),  # kept after a backslash: the name ends in a space
    ("[a-c].yaml\n", "b.yaml", False, True),
    ("[^a-c].yaml\n", "b.yaml", False, False),
    ("[z-a].yaml\n", "b.yaml", False, False),  # a reversed range holds nothing; no error
    ("!\n\\\n[]a]\n[a\n", "a", False, False),  # malformed: match nothing, never fail
    ("# comment\n\n   \n", "x.png", False, True),  # only comments: no rule, so the defaults hold
    ("a[.-0]b\n", "a/b", False, False),  # a class never matches the `/` between two names
    ("x[^a]y\n", "x/y", False, False),
    ("a\n", "a\n", False, False),  # a name that ends in a line break is another name
])
def test_patterns_match_as_flux_matches_them(rules: str, path: str, is_dir: bool, left_out: bool) -> None:
    patterns = read_patterns(rules)
    assert artifact_filter(patterns)(path, is_dir) is left_out


def test_a_nested_files_patterns_hold_below_its_folder_only() -> None:
    left_out = artifact_filter(read_patterns("values.yaml\nweb/x.yaml\n", ("apps",)))
    assert left_out("apps/values.yaml") and left_out("apps/a/b/values.yaml") and left_out("apps/web/x.yaml")
    assert not left_out("values.yaml") and not left_out("other/values.yaml") and not left_out("apps/a/web/x.yaml")


def test_windows_line_ends_are_read_as_go_reads_them() -> None:
    assert artifact_filter(read_patterns("a.yaml\r\nb.yaml\r\n"))("b.yaml")


NAMES = st.sampled_from(["a", "b", "x.png", ".git", ".github", ".sops.yaml", "cm.yaml", "values.yaml", "dev"])
GLOBS = st.sampled_from(["a", "*.png", "*.yaml", ".git", "dev", "?", "[ab]", "x*", "**", "values.yaml", "[z-a]"])


@st.composite
def pattern_lines(draw) -> str:
    parts = draw(st.lists(GLOBS, min_size=1, max_size=3))
    return (("!" if draw(st.integers(0, 3)) == 0 else "") + ("/" if draw(st.booleans()) else "")
            + "/".join(parts) + ("/" if draw(st.booleans()) else ""))


@settings(max_examples=300, deadline=None)
@given(files=st.lists(st.tuples(st.lists(NAMES, max_size=2), st.lists(pattern_lines(), max_size=4)), max_size=3),
       path=st.lists(NAMES, min_size=1, max_size=4), is_dir=st.booleans())
def test_the_grouped_filter_agrees_with_pattern_by_pattern_matching(files, path, is_dir) -> None:
    """The filter groups patterns by folder and joins name patterns into searches: it must say what trying
    every pattern, last first, says (`gitignore.Matcher`), with `!` patterns or without."""
    patterns = [p for domain, lines in files for p in read_patterns("\n".join(lines), tuple(domain))]
    every: list[IgnorePattern] = [*read_patterns(_VCS.replace(",", "\n")), *patterns]
    if not patterns:
        every = []  # the defaults: checked by the table above
    expected = next((result == 1 for p in reversed(every) if (result := p.match(path, is_dir))), False)
    if every:
        assert artifact_filter(patterns)("/".join(path), is_dir) is expected


def test_reading_stops_at_a_line_go_cannot_scan() -> None:
    """bufio.Scanner stops at a line of 64 KiB or more, and ReadPatterns keeps what came before it."""
    assert len(read_patterns("a\n" + "x" * 65536 + "\nb\n")) == 1
    assert len(read_patterns("a\n" + "x" * 65535 + "\nb\n")) == 3
    assert len(read_patterns("\x1c\n")) == 1  # no space to Go: a pattern
