"""Which files get linted: git's view of the tree, .gitignore files, symlinks, excludes, the root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gitops_lint.discover import Candidate, DiscoveryError, _inherited_ignores, discover, relative_to_base
from tests.conftest import write_tree

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


needs_symlinks = pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path):
    """No user or system git configuration (global excludes, templates), no repository above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=Test", "-c", "init.defaultBranch=main",
         "-c", "protocol.file.allow=always", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )
    return out.stdout


def git_repo(path: Path, files: dict[str, str], *, add: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    write_tree(path, files)
    if add:
        git(path, "add", "-A")
    return path


def rels(discovery) -> list[str]:
    return [c.rel for c in discovery.files]


Y = "a: 1\n"


# --- what counts as a candidate -------------------------------------------------------------------


def test_walk_takes_yaml_kustomization_and_agent_configs(tmp_path):
    write_tree(tmp_path, {
        "a.yaml": Y, "b.yml": Y, "c.YAML.txt": Y, "notes.txt": "x", "README.md": "x", "data.json": "{}",
        "k1/kustomization": Y, "k2/Kustomization": Y, "k3/kustomization.txt": Y, "KUSTOMIZATION": Y,
        ".gitlab/agents/x/config.yml": Y, ".gitlab/agents/y/config.yaml": Y, ".hidden/d.yaml": Y,
    })
    found = discover(["."], cwd=tmp_path)
    assert found.in_git is False
    assert found.root == tmp_path.resolve()
    assert rels(found) == [
        ".gitlab/agents/x/config.yml", ".gitlab/agents/y/config.yaml", ".hidden/d.yaml",
        "a.yaml", "b.yml", "k1/kustomization", "k2/Kustomization",
    ]
    assert all(isinstance(c, Candidate) and c.path == found.root / c.rel for c in found.files)


def test_default_path_is_the_current_folder(tmp_path):
    write_tree(tmp_path, {"a.yaml": Y, "sub/b.yaml": Y})
    assert rels(discover([], cwd=tmp_path)) == ["a.yaml", "sub/b.yaml"]


def test_explicit_files_are_taken_whatever_their_extension(tmp_path):
    write_tree(tmp_path, {"notes.txt": "x", "values.json": "{}", "a.yaml": Y})
    found = discover(["notes.txt", "values.json"], cwd=tmp_path)
    assert rels(found) == ["notes.txt", "values.json"]


def test_explicit_file_path_is_normalised(tmp_path):
    write_tree(tmp_path, {"a/x.yaml": Y, "b/.keep": ""})
    found = discover(["b/../a/x.yaml", "./a/x.yaml", str(tmp_path / "a" / "x.yaml")], cwd=tmp_path)
    assert rels(found) == ["a/x.yaml"]


def test_missing_path_is_a_discovery_error(tmp_path):
    write_tree(tmp_path, {"a.yaml": Y})
    with pytest.raises(DiscoveryError, match="does-not-exist"):
        discover(["a.yaml", "does-not-exist"], cwd=tmp_path)


def test_output_is_sorted_and_deduplicated(tmp_path):
    write_tree(tmp_path, {"b/z.yaml": Y, "b/a.yaml": Y, "a.yaml": Y, "c/k/kustomization": Y})
    found = discover(["b", "b/a.yaml", "b/a.yaml", ".", "c/k/kustomization", "b"], cwd=tmp_path)
    assert rels(found) == ["a.yaml", "b/a.yaml", "b/z.yaml", "c/k/kustomization"]


# --- VCS folders ----------------------------------------------------------------------------------


def test_walk_skips_vcs_folders(tmp_path):
    write_tree(tmp_path, {
        ".hg/store/a.yaml": Y, ".svn/pristine/b.yaml": Y, ".bzr/c.yaml": Y, "CVS/d.yaml": Y, ".jj/e.yaml": Y,
        "sub/.svn/f.yaml": Y, "sub/g.yaml": Y, "h.yaml": Y,
    })
    assert rels(discover(["."], cwd=tmp_path)) == ["h.yaml", "sub/g.yaml"]


# --- .gitignore without git -----------------------------------------------------------------------


def test_walk_honours_root_and_nested_gitignore(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "*.gen.yaml\nbuild/\n/secret.yaml\ndata.yaml/\n# a comment\n",
        "sub/.gitignore": "!keep.gen.yaml\nlocal/\n",
        "a.gen.yaml": Y,  # ignored by *.gen.yaml
        "sub/keep.gen.yaml": Y,  # re-included by the nested negation
        "sub/other.gen.yaml": Y,  # still ignored
        "build/x.yaml": Y,  # ignored folder
        "sub/build/x.yaml": Y,  # unanchored folder pattern matches at any depth
        "secret.yaml": Y,  # anchored: only at the root
        "sub/secret.yaml": Y,
        "sub/local/x.yaml": Y,  # sub/.gitignore's local/ is relative to sub/
        "local/x.yaml": Y,
        "data.yaml": Y,  # `data.yaml/` is a folder-only pattern: a file of that name stays
        "sub/data.yaml/inner.yaml": Y,
        "ok.yaml": Y,
    })
    assert rels(discover(["."], cwd=tmp_path)) == [
        "data.yaml", "local/x.yaml", "ok.yaml", "sub/keep.gen.yaml", "sub/secret.yaml",
    ]


def test_nested_gitignore_negation_overrides_parent(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "*.yaml\n",
        "a.yaml": Y,
        "apps/.gitignore": "!*.yaml\nskip.yaml\n",
        "apps/x.yaml": Y,
        "apps/skip.yaml": Y,
        "apps/deep/y.yaml": Y,
    })
    assert rels(discover(["."], cwd=tmp_path)) == ["apps/deep/y.yaml", "apps/x.yaml"]


def test_negation_cannot_reinclude_a_file_inside_an_ignored_folder(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "vendor/\n",
        "vendor/.gitignore": "!*.yaml\n",
        "vendor/x.yaml": Y,
        "a.yaml": Y,
    })
    assert rels(discover(["."], cwd=tmp_path)) == ["a.yaml"]


def test_explicit_file_is_taken_even_when_gitignored(tmp_path):
    write_tree(tmp_path, {".gitignore": "*.yaml\n", "a.yaml": Y})
    assert rels(discover(["a.yaml"], cwd=tmp_path)) == ["a.yaml"]


# --- a sub-folder named explicitly honours its parents' .gitignore files (non-git) ----------------


def test_inherited_ignores_lists_parent_gitignores_up_to_the_root(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "*.gen.yaml\n", "a/.gitignore": "skip/\n", "a/b/.gitignore": "own.yaml\n", "a/b/c/x.yaml": Y,
    })
    root = tmp_path.resolve()
    assert [base for base, _ in _inherited_ignores(root, root)] == []
    assert [base for base, _ in _inherited_ignores(root, root / "a")] == [""]
    # a/b's own .gitignore is read by the walk itself, not inherited
    assert [base for base, _ in _inherited_ignores(root, root / "a" / "b")] == ["", "a"]
    assert [base for base, _ in _inherited_ignores(root, root / "a" / "b" / "c")] == ["", "a", "a/b"]


def test_subfolder_given_honours_parent_gitignores(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "*.gen.yaml\n/a/b/top-anchored.yaml\n",
        "a/.gitignore": "skip/\n",
        "a/b/x.gen.yaml": Y,
        "a/b/y.yaml": Y,
        "a/b/top-anchored.yaml": Y,
        "a/b/skip/z.yaml": Y,
        "a/b/c/w.yaml": Y,
        "a/b/.gitignore": "c/\n",
    })
    found = discover(["a/b"], cwd=tmp_path)
    assert found.root == tmp_path.resolve()
    assert rels(found) == ["a/b/y.yaml"]


def test_subfolder_given_honours_negation_in_a_parent_gitignore(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "*.yaml\n",
        "a/.gitignore": "!keep.yaml\n",
        "a/b/keep.yaml": Y,
        "a/b/drop.yaml": Y,
    })
    assert rels(discover(["a/b"], cwd=tmp_path)) == ["a/b/keep.yaml"]


def test_subfolder_given_inside_an_ignored_folder_is_ignored_like_git_does(tmp_path):
    write_tree(tmp_path, {
        ".gitignore": "gen/\n",
        "gen/.gitignore": "!*.yaml\n",
        "gen/sub/x.yaml": Y,
        "gen/sub/notes.txt": "x",
    })
    root = tmp_path.resolve()
    assert _inherited_ignores(root, root / "gen" / "sub") is None
    assert _inherited_ignores(root, root / "gen") is None
    assert rels(discover(["gen/sub"], cwd=tmp_path)) == []
    # ... but a file named explicitly is still taken
    assert rels(discover(["gen/sub/x.yaml"], cwd=tmp_path)) == ["gen/sub/x.yaml"]


def test_unreadable_parent_gitignore_does_not_crash(tmp_path):
    write_tree(tmp_path, {"a/b/x.yaml": Y})
    (tmp_path / ".gitignore").mkdir()  # a folder where a file is expected
    assert rels(discover(["a/b"], cwd=tmp_path)) == ["a/b/x.yaml"]


# --- excludes -------------------------------------------------------------------------------------


def test_excludes_apply_to_walked_and_explicit_files(tmp_path):
    write_tree(tmp_path, {"vendor/x.yaml": Y, "apps/a.yaml": Y, "apps/a.test.yaml": Y, "notes.txt": "x"})
    found = discover(["."], cwd=tmp_path, excludes=["vendor/", "*.test.yaml"])
    assert rels(found) == ["apps/a.yaml"]
    # pre-commit names the files: the exclude still applies
    explicit = discover(["vendor/x.yaml", "apps/a.test.yaml", "apps/a.yaml"], cwd=tmp_path,
                        excludes=["vendor/", "*.test.yaml"])
    assert rels(explicit) == ["apps/a.yaml"]


def test_exclude_negation(tmp_path):
    write_tree(tmp_path, {"gen/a.yaml": Y, "gen/keep.yaml": Y})
    found = discover(["."], cwd=tmp_path, excludes=["gen/*", "!gen/keep.yaml"])
    assert rels(found) == ["gen/keep.yaml"]


def test_excludes_are_relative_to_the_exclude_base(tmp_path):
    write_tree(tmp_path, {"clusters/gen/a.yaml": Y, "gen/b.yaml": Y, "clusters/c.yaml": Y})
    found = discover(["."], cwd=tmp_path, excludes=["/gen/"], exclude_base=tmp_path / "clusters")
    assert "clusters/gen/a.yaml" not in rels(found)
    assert "clusters/c.yaml" in rels(found)


def test_excludes_relative_to_a_base_above_the_root(tmp_path):
    """Without git the configuration may be found above the root (cwd): its globs still read from its folder."""
    write_tree(tmp_path, {"proj/clusters/legacy/a.yaml": Y, "proj/clusters/b.yaml": Y})
    found = discover(["."], cwd=tmp_path / "proj" / "clusters", excludes=["/clusters/legacy/"],
                     exclude_base=tmp_path / "proj")
    assert found.root == (tmp_path / "proj" / "clusters").resolve()
    assert rels(found) == ["b.yaml"]


def test_relative_to_base(tmp_path):
    root = tmp_path.resolve() / "repo"
    root.mkdir()
    assert relative_to_base("a/b.yaml", root, None) == "a/b.yaml"
    assert relative_to_base("a/b.yaml", root, root) == "a/b.yaml"
    assert relative_to_base("a/b.yaml", root, root / "a") == "b.yaml"
    assert relative_to_base("ab/c.yaml", root, root / "a") == "ab/c.yaml"  # not under a/: unchanged
    assert relative_to_base("a/b.yaml", root, tmp_path) == "repo/a/b.yaml"  # base above the root


# --- Helm charts and template files ---------------------------------------------------------------


def test_helm_chart_templates_and_template_files_are_flagged(tmp_path):
    write_tree(tmp_path, {
        "chart/Chart.yaml": "name: c\n",
        "chart/values.yaml": Y,
        "chart/templates/deploy.yaml": Y,
        "chart/templates/sub/svc.yaml": Y,
        "chart/charts/dep/Chart.yaml": "name: d\n",
        "chart/charts/dep/templates/x.yaml": Y,
        "other/templates/plain.yaml": Y,  # no Chart.yaml: ordinary YAML
        "templates/root.yaml": Y,
        "cfg.yaml.j2": Y,
        "helpers.tpl": Y,
    })
    found = discover([".", "cfg.yaml.j2", "helpers.tpl"], cwd=tmp_path)
    flagged = {c.rel: c.template for c in found.files}
    assert flagged["chart/templates/deploy.yaml"] == flagged["chart/templates/sub/svc.yaml"]
    assert flagged["chart/templates/deploy.yaml"] is not None
    assert flagged["chart/charts/dep/templates/x.yaml"] is not None
    assert flagged["cfg.yaml.j2"] is not None and flagged["helpers.tpl"] is not None
    for plain in ("chart/Chart.yaml", "chart/values.yaml", "other/templates/plain.yaml", "templates/root.yaml"):
        assert flagged[plain] is None, plain


def test_chart_template_is_flagged_when_the_root_is_inside_the_chart(tmp_path):
    write_tree(tmp_path, {"chart/Chart.yaml": "name: c\n", "chart/templates/deploy.yaml": Y})
    found = discover(["deploy.yaml"], cwd=tmp_path / "chart" / "templates")
    assert rels(found) == ["deploy.yaml"]
    assert found.files[0].template is not None


def test_root_level_templates_folder_of_a_chart_root(tmp_path):
    write_tree(tmp_path, {"Chart.yaml": "name: c\n", "templates/a.yaml": Y})
    found = discover(["."], cwd=tmp_path)
    assert {c.rel: c.template is not None for c in found.files} == {"Chart.yaml": False, "templates/a.yaml": True}


# --- the root -------------------------------------------------------------------------------------


def test_root_is_cwd_when_it_contains_every_path(tmp_path):
    write_tree(tmp_path, {"a/x.yaml": Y, "b/y.yaml": Y})
    found = discover(["a", "b/y.yaml"], cwd=tmp_path)
    assert found.root == tmp_path.resolve()
    assert rels(found) == ["a/x.yaml", "b/y.yaml"]


def test_root_is_the_common_folder_when_cwd_does_not_contain_the_paths(tmp_path):
    write_tree(tmp_path, {"w/a/x.yaml": Y, "w/b/y.yaml": Y, "elsewhere/.keep": ""})
    found = discover([tmp_path / "w" / "a", tmp_path / "w" / "b" / "y.yaml"], cwd=tmp_path / "elsewhere")
    assert found.root == (tmp_path / "w").resolve()
    assert rels(found) == ["a/x.yaml", "b/y.yaml"]


def test_root_for_a_single_file_outside_cwd_is_its_folder(tmp_path):
    write_tree(tmp_path, {"w/a/x.yaml": Y, "elsewhere/.keep": ""})
    found = discover([tmp_path / "w" / "a" / "x.yaml"], cwd=tmp_path / "elsewhere")
    assert found.root == (tmp_path / "w" / "a").resolve()
    assert rels(found) == ["x.yaml"]


# --- symlinks -------------------------------------------------------------------------------------


@needs_symlinks
def test_symlink_cycle_terminates(tmp_path):
    root = tmp_path / "root"
    write_tree(root, {"a/x.yaml": Y, "a/b/y.yaml": Y})
    os.symlink("..", root / "a" / "b" / "up")  # a/b/up -> a
    os.symlink(str(root), root / "a" / "to-root")
    os.symlink("self.yaml", root / "self.yaml")  # a link to itself: kept like a broken one, reported unreadable
    found = discover(["."], cwd=root)
    assert rels(found) == ["a/b/y.yaml", "a/x.yaml", "self.yaml"]


@needs_symlinks
def test_symlinked_file_outside_the_root_is_left_out(tmp_path):
    write_tree(tmp_path, {"outside/secret.yaml": Y, "root/a.yaml": Y})
    root = tmp_path / "root"
    os.symlink(tmp_path / "outside" / "secret.yaml", root / "link.yaml")
    os.symlink("../outside/secret.yaml", root / "rel-link.yaml")
    assert rels(discover(["."], cwd=root)) == ["a.yaml"]
    # named explicitly: still not followed out of the root
    assert rels(discover(["link.yaml", "a.yaml"], cwd=root)) == ["a.yaml"]


@needs_symlinks
def test_explicit_symlink_out_of_the_root_does_not_move_the_root(tmp_path):
    write_tree(tmp_path, {"outside/secret.yaml": Y, "root/a.yaml": Y})
    root = tmp_path / "root"
    os.symlink("../outside/secret.yaml", root / "link.yaml")
    found = discover(["link.yaml"], cwd=root)
    assert found.root == root.resolve()
    assert rels(found) == []


@needs_symlinks
def test_symlinked_folder_outside_the_root_is_not_walked(tmp_path):
    write_tree(tmp_path, {"outside/x.yaml": Y, "outside/sub/y.yaml": Y, "root/a.yaml": Y})
    root = tmp_path / "root"
    os.symlink(tmp_path / "outside", root / "ext")
    os.symlink("../outside/sub", root / "ext-rel")
    assert rels(discover(["."], cwd=root)) == ["a.yaml"]


@needs_symlinks
def test_explicit_symlinked_folder_outside_the_root_is_not_walked(tmp_path):
    write_tree(tmp_path, {"outside/x.yaml": Y, "root/x.yaml": Y, "root/a.yaml": Y})
    root = tmp_path / "root"
    os.symlink("../outside", root / "ext")
    found = discover(["ext", "a.yaml"], cwd=root)
    assert found.root == root.resolve()
    assert rels(found) == ["a.yaml"]  # in particular not root/x.yaml mistaken for outside/x.yaml


@needs_symlinks
def test_lone_symlinked_folder_named_from_elsewhere_is_the_root(tmp_path):
    write_tree(tmp_path, {"target/x.yaml": Y, "links/.keep": "", "elsewhere/.keep": ""})
    os.symlink(tmp_path / "target", tmp_path / "links" / "cfg")
    found = discover([tmp_path / "links" / "cfg"], cwd=tmp_path / "elsewhere")
    assert found.root == (tmp_path / "target").resolve()
    assert rels(found) == ["x.yaml"]


@needs_symlinks
def test_relative_symlink_inside_the_root_is_included(tmp_path):
    root = tmp_path / "root"
    write_tree(root, {"real/a.yaml": Y})
    os.symlink("real/a.yaml", root / "alias.yaml")
    os.symlink("../real/a.yaml", root / "real" / "again.yml")
    found = discover(["."], cwd=root)
    assert rels(found) == ["alias.yaml", "real/a.yaml", "real/again.yml"]
    alias = found.files[0]
    assert alias.path == root.resolve() / "alias.yaml"  # the link's own path, read through the link


@needs_symlinks
def test_symlinked_folder_inside_the_root_is_walked_once_under_its_real_path(tmp_path):
    root = tmp_path / "root"
    write_tree(root, {"areal/a.yaml": Y})
    os.symlink("areal", root / "zlink")
    assert rels(discover(["."], cwd=root)) == ["areal/a.yaml"]


@needs_symlinks
def test_symlinked_folder_inside_the_root_is_followed_from_a_named_subfolder(tmp_path):
    root = tmp_path / "root"
    write_tree(root, {"shared/a.yaml": Y, "app/b.yaml": Y})
    os.symlink("../shared", root / "app" / "common")
    found = discover(["app"], cwd=root)
    assert rels(found) == ["app/b.yaml", "app/common/a.yaml"]


@needs_symlinks
def test_broken_symlink_inside_the_root_is_kept(tmp_path):
    root = tmp_path / "root"
    write_tree(root, {"a.yaml": Y})
    os.symlink("missing.yaml", root / "broken.yaml")
    found = discover(["."], cwd=root)
    assert rels(found) == ["a.yaml", "broken.yaml"]
    assert rels(discover(["broken.yaml"], cwd=root)) == ["broken.yaml"]


# --- git work trees -------------------------------------------------------------------------------


@needs_git
def test_git_tracked_and_untracked_not_ignored(tmp_path):
    repo = git_repo(tmp_path / "repo", {
        ".gitignore": "ignored/\n*.local.yaml\n",
        "tracked.yaml": Y,
        "notes.txt": "x",
        ".gitlab/agents/x/config.yml": Y,
        "k/kustomization": Y,
    })
    git(repo, "add", "-f", "-A")
    write_tree(repo, {
        "untracked.yaml": Y, "ignored/x.yaml": Y, "a.local.yaml": Y, "forced.local.yaml": Y,
        ".git/stray.yaml": Y,
    })
    git(repo, "add", "-f", "forced.local.yaml")  # tracked although ignored: git lists it
    found = discover(["."], cwd=repo)
    assert found.in_git is True
    assert found.root == repo.resolve()
    assert rels(found) == [
        ".gitlab/agents/x/config.yml", "forced.local.yaml", "k/kustomization", "tracked.yaml", "untracked.yaml",
    ]


@needs_git
def test_git_tracked_but_deleted_files_are_left_out(tmp_path):
    repo = git_repo(tmp_path / "repo", {"keep.yaml": Y, "gone.yaml": Y, "dir/gone.yaml": Y})
    (repo / "gone.yaml").unlink()
    shutil.rmtree(repo / "dir")
    assert rels(discover(["."], cwd=repo)) == ["keep.yaml"]


@needs_git
def test_git_gitlinks_and_nested_repositories_do_not_crash(tmp_path):
    inner = git_repo(tmp_path / "inner", {"inner.yaml": Y})
    git(inner, "commit", "-q", "-m", "init")
    repo = git_repo(tmp_path / "repo", {"a.yaml": Y})
    # a submodule (checked out) and a gitlink with no folder behind it, named like a candidate
    git(repo, "submodule", "add", "-q", str(inner), "sub.yaml")
    head = git(inner, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},ghost.yaml")
    # an untracked nested repository
    git_repo(repo / "nested", {"n.yaml": Y})
    found = discover(["."], cwd=repo)
    assert found.in_git is True
    assert rels(found) == ["a.yaml"]


@needs_git
def test_git_subfolder_given_is_relative_to_the_git_root(tmp_path):
    repo = git_repo(tmp_path / "repo", {"apps/a.yaml": Y, "apps/sub/b.yaml": Y, "infra/c.yaml": Y})
    found = discover(["apps"], cwd=repo)
    assert found.root == repo.resolve() and found.in_git
    assert rels(found) == ["apps/a.yaml", "apps/sub/b.yaml"]
    # cwd inside the subfolder: still relative to the git root
    found = discover(["."], cwd=repo / "apps" / "sub")
    assert found.root == repo.resolve()
    assert rels(found) == ["apps/sub/b.yaml"]
    # and from outside the repository altogether
    found = discover([repo / "apps" / "sub"], cwd=tmp_path)
    assert found.root == repo.resolve()
    assert rels(found) == ["apps/sub/b.yaml"]


@needs_git
def test_git_folder_with_glob_characters_in_its_name(tmp_path):
    repo = git_repo(tmp_path / "repo", {"[ab]/x.yaml": Y, "a/y.yaml": Y, "*/z.yaml": Y, ":weird/w.yaml": Y})
    assert rels(discover(["[ab]"], cwd=repo)) == ["[ab]/x.yaml"]
    assert rels(discover(["*"], cwd=repo)) == ["*/z.yaml"]
    assert rels(discover([":weird"], cwd=repo)) == [":weird/w.yaml"]


@needs_git
def test_git_explicit_files_and_excludes(tmp_path):
    repo = git_repo(tmp_path / "repo", {
        ".gitignore": "*.secret.yaml\n", "vendor/x.yaml": Y, "apps/a.yaml": Y, "apps/notes.txt": "x",
    })
    write_tree(repo, {"apps/b.secret.yaml": Y})
    found = discover(["apps/notes.txt", "vendor/x.yaml", "apps/b.secret.yaml", "apps"], cwd=repo,
                     excludes=["vendor/"])
    assert rels(found) == ["apps/a.yaml", "apps/b.secret.yaml", "apps/notes.txt"]


@needs_git
def test_git_paths_in_two_repositories_fall_back_to_walking(tmp_path):
    one = git_repo(tmp_path / "one", {".gitignore": "skip.yaml\n", "a.yaml": Y, "skip.yaml": Y})
    two = git_repo(tmp_path / "two", {"b.yaml": Y})
    found = discover(["one", "two"], cwd=tmp_path)
    assert found.in_git is False
    assert found.root == tmp_path.resolve()
    assert rels(found) == ["one/a.yaml", "two/b.yaml"]
    assert one.exists() and two.exists()


@needs_git
@needs_symlinks
def test_git_symlinks(tmp_path):
    write_tree(tmp_path, {"outside/secret.yaml": Y})
    repo = git_repo(tmp_path / "repo", {"real/a.yaml": Y}, add=False)
    os.symlink("real/a.yaml", repo / "alias.yaml")
    os.symlink("../outside/secret.yaml", repo / "out.yaml")
    os.symlink("real", repo / "dir.yaml")  # a symlinked folder named like a candidate
    os.symlink("missing.yaml", repo / "broken.yaml")
    git(repo, "add", "-A")
    assert rels(discover(["."], cwd=repo)) == ["alias.yaml", "broken.yaml", "real/a.yaml"]


@needs_git
def test_git_broken_symlink_named_explicitly_keeps_git_mode(tmp_path):
    repo = git_repo(tmp_path / "repo", {".gitignore": "*.local.yaml\n", "a.yaml": Y, "x.local.yaml": Y})
    os.symlink("/nonexistent/dir/x.yaml", repo / "broken.yaml")
    found = discover(["broken.yaml", "."], cwd=repo)
    assert found.in_git is True
    assert found.root == repo.resolve()


@needs_git
def test_git_helm_templates_flagged(tmp_path):
    repo = git_repo(tmp_path / "repo", {
        "charts/app/Chart.yaml": "name: app\n", "charts/app/templates/cm.yaml": Y, "charts/app/values.yaml": Y,
    })
    found = discover(["charts"], cwd=repo)
    assert {c.rel: c.template is not None for c in found.files} == {
        "charts/app/Chart.yaml": False, "charts/app/templates/cm.yaml": True, "charts/app/values.yaml": False,
    }


@needs_git
def test_git_listing_is_two_subprocesses_for_the_tree(tmp_path, monkeypatch):
    """`git ls-files` for the tracked and for the untracked files of the whole tree, never a subprocess
    per file (which made 5,000 files take seconds)."""
    import subprocess

    files = {f"apps/a{i // 100}/f{i}.yaml": Y for i in range(500)}
    files.update({f"apps/a{i // 100}/f{i}.txt": "x" for i in range(100)})
    repo = git_repo(tmp_path / "repo", files)
    write_tree(repo, {"apps/new.yaml": Y})
    calls = []

    class CountingPopen(subprocess.Popen):  # `subprocess.run` starts its process through Popen too
        def __init__(self, argv, *args, **kwargs):
            calls.append(argv)
            super().__init__(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", CountingPopen)  # discovery imports subprocess where it calls git
    found = discover(["."], cwd=repo)
    assert len(found.files) == 501
    assert len(calls) <= 3, calls  # `rev-parse --show-toplevel`, `ls-files --cached`, `ls-files --others`


@needs_git
def test_git_listed_files_carry_the_state_identify_needs(tmp_path):
    """Discovery's lstat of each file git lists is the stat `load.identify` would take: not taken twice."""
    repo = git_repo(tmp_path / "repo", {"a.yaml": Y, "apps/b.yaml": Y})
    write_tree(repo, {"apps/untracked.yaml": Y})
    os.symlink("a.yaml", repo / "link.yaml")
    found = discover(["."], cwd=repo)
    states = {c.rel: c.state for c in found.files}
    for rel in ("a.yaml", "apps/b.yaml", "apps/untracked.yaml"):
        st = os.stat(repo / rel)
        assert states[rel] == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    assert states["link.yaml"] is None  # a symlink: identify stats its target


def test_outside_any_git_work_tree_git_is_not_started(tmp_path, monkeypatch):
    """No `.git` in the folder or above it: git could not find a work tree, so it is not asked."""
    import subprocess

    from gitops_lint.discover import git_root

    (tmp_path / "a").mkdir()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("git started")))
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    if any((p / ".git").exists() for p in [tmp_path, *tmp_path.parents]):
        pytest.skip("the temporary folder is inside a git work tree")
    assert git_root(tmp_path / "a") is None


def test_read_bytes_reads_as_path_read_bytes(tmp_path: Path) -> None:
    """The loader's reader: the same bytes (empty, small, past its 1 MiB chunk) and the same errors."""
    from gitops_lint.discover import read_bytes

    for name, content in {"empty": b"", "small": b"a: 1\n", "large": os.urandom(3 * (1 << 20) + 7)}.items():
        (tmp_path / name).write_bytes(content)
        assert read_bytes(tmp_path / name) == content == (tmp_path / name).read_bytes()
        assert read_bytes(str(tmp_path / name)) == content
    (tmp_path / "folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name in ("missing", "folder", "dangling"):
        with pytest.raises(OSError) as ours:
            read_bytes(tmp_path / name)
        with pytest.raises(OSError) as theirs:
            (tmp_path / name).read_bytes()
        assert type(ours.value) is type(theirs.value) and ours.value.errno == theirs.value.errno


def fake_git(tmp_path: Path, monkeypatch, on_others: str) -> None:
    """A `git` first on PATH that runs `on_others` (shell) for `ls-files --others` and the real git otherwise."""
    real = shutil.which("git")
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(f'#!/bin/sh\ncase " $* " in *" --others "*) {on_others} ;; esac\nexec {real} "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@needs_git
def test_a_git_that_hangs_listing_untracked_files_is_given_up_on(tmp_path, monkeypatch):
    """Past the timeout the hung `ls-files --others` is killed and the tree is walked instead (it was waited
    for to the end)."""
    import time

    from gitops_lint import discover as discover_module

    repo = git_repo(tmp_path / "repo", {"a.yaml": Y})
    write_tree(repo, {"new.yaml": Y})
    fake_git(tmp_path, monkeypatch, "exec sleep 30")
    monkeypatch.setattr(discover_module, "_GIT_TIMEOUT", 1)
    started = time.monotonic()
    assert rels(discover(["."], cwd=repo)) == ["a.yaml", "new.yaml"]
    assert time.monotonic() - started < 20


@needs_git
def test_a_folder_git_cannot_list_says_its_tracked_files_were_checked(tmp_path, monkeypatch):
    """git warns that it cannot open a folder (searchable, not listable: mode 0311) and lists none of its
    untracked files; the tracked ones are still read, and the finding says exactly that."""
    repo = git_repo(tmp_path / "repo", {"a.yaml": Y, "noread/b.yaml": Y})
    fake_git(tmp_path, monkeypatch, "echo \"warning: could not open directory 'noread/': Permission denied\" >&2")
    found = discover(["."], cwd=repo)
    assert rels(found) == ["a.yaml", "noread/b.yaml"]
    (problem,) = found.problems
    assert problem.rel == "noread"
    assert problem.message == ("cannot list folder: Permission denied; the files in it that git tracks were "
                               "checked, the others were not")
