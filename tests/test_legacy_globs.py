"""The doublestar globs of `compile --migrate` (wcmatch underneath): several `**` do not explode."""

from __future__ import annotations

import pytest

from gitops_lint.compile.legacy import glob_match, select_files

#: 29 folders and a file: the old hand-written engine tried every way of spreading the folders over the
#: `**` (hundreds of thousands of calls for 5 `**`, hours for 8); a regex of many `**` backtracks likewise.
LONG = "/".join(["a"] * 29)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*/**/*/**/*/**/*/**/*.yaml", f"{LONG}/x.yaml", True),
        ("**/*/**/*/**/*/**/*/**/*.yaml", f"{LONG}/x.yml", False),
        ("/".join(["**", "*"] * 7) + "/**/*.yaml", f"{LONG}/x.yml", False),  # 8 `**`
        ("/".join(["**", "*"] * 7) + "/**/*.yaml", f"{LONG}/x.yaml", True),
        ("/".join(["**", "*"] * 7) + "/**/*.yaml", "a/a/a/a/a/a/x.yaml", False),  # 7 `*`: at least 7 folders
        ("/".join(["**", "*"] * 7) + "/**/*.yaml", "a/a/a/a/a/a/a/x.yaml", True),
        ("**/a/**/b/**/c/**/d/**/*.yaml", f"{LONG}/b/c/d/x.yaml", True),
        ("**/a/**/b/**/c/**/d/**/*.yaml", f"{LONG}/b/c/x.yaml", False),
        ("**/a/**/a/**/a/**/a/**/*.{yaml,yml}", f"{LONG}/x.json", False),
        ("**/**/**/**/**/x.yaml", f"{LONG}/x.yaml", True),
    ],
)
def test_many_doublestars_on_a_long_path(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("a/**", "a", True),  # a trailing `**` matches zero folders (GLOBSTAR alone would not)
        ("*/**", "a", True),
        ("a//b", "a/b", False),  # an empty segment names no file
        ("a/[b.yaml", "a/[b.yaml", False),  # an unclosed class is a bad pattern: nothing matches
        ("a/[^b].yaml", "a/c.yaml", True),
        ("a/{b}.yaml", "a/b.yaml", True),  # doublestar expands a one-alternative brace (bash would not)
        ("a/{1..2}.yaml", "a/1.yaml", False),  # and knows no sequences
        ("!a.yaml", "!a.yaml", True),  # no negation
        ("@(a|b).yaml", "a.yaml", False),  # no extglob
        ("A.yaml", "a.yaml", False),  # case matters on every OS
        ("a**b/x", "acb/x", True),  # `**` inside a segment is `*`
        ("a**b/x", "a/c/b/x", False),
        ("**/*.yaml", "a/.b.yaml", True),  # `*` matches dot files
        ("a\\*.yaml", "a*.yaml", True),
        ("a\\*.yaml", "ab.yaml", False),
    ],
)
def test_doublestar_semantics_kept(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path, skip_dot_dirs=False) is expected


def test_dot_folders_still_skipped_under_many_doublestars() -> None:
    assert not glob_match("**/**/**/*.yaml", "a/.b/c/x.yaml")
    assert glob_match("**/**/**/*.yaml", "a/.b/c/x.yaml", skip_dot_dirs=False)
    assert select_files(["**/a/**/*.yaml", "/**/*.json"], ["a/x.yaml", "b/a/c/y.yaml", ".a/z.yaml", "q.json"]) == [
        "a/x.yaml", "b/a/c/y.yaml", "q.json"]
