"""`gitops-lint diff`: what a change does to what Flux applies, against a base revision read from git."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_lint.cli import main
from gitops_lint.view.changes import changed_fields
from tests.conftest import FLUX_SYNC, assert_golden, write_tree



def flux_kustomization(name: str, path: str, prune: bool = True) -> str:
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
            f"  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: {str(prune).lower()}\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")


def config_map(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: web\ndata:\n  greeting: {value}\n"


SECRET = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\n"
          "stringData:\n  password: {password}\n")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fleet"
    write_tree(root, {
        "clusters/prod/flux-system/gotk-sync.yaml": FLUX_SYNC,
        "clusters/prod/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
        "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - web.yaml\n  - jobs.yaml\n",
        "clusters/prod/web.yaml": flux_kustomization("web", "./apps/web"),
        "clusters/prod/jobs.yaml": flux_kustomization("jobs", "./apps/jobs", prune=False),
        "apps/web/kustomization.yaml": "resources:\n  - hello.yaml\n  - bye.yaml\n  - secret.yaml\n",
        "apps/web/hello.yaml": config_map("hello", "hi"),
        "apps/web/bye.yaml": config_map("bye", "ciao"),
        "apps/web/secret.yaml": SECRET.format(password="hunter2"),
        "apps/jobs/kustomization.yaml": "resources:\n  - nightly.yaml\n",
        "apps/jobs/nightly.yaml": config_map("nightly", "zzz").replace("namespace: web", "namespace: jobs"),
    })
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "base")
    monkeypatch.chdir(root)
    monkeypatch.delenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", raising=False)
    return root


def diff(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["diff", "--isolated", *args])
    return result.exit_code, result.output


def change(root: Path) -> None:
    """Drop an object, change another, add one, rotate a password, and stop pruning `web`."""
    write_tree(root, {
        "apps/web/kustomization.yaml": "resources:\n  - hello.yaml\n  - secret.yaml\n  - new.yaml\n",
        "apps/web/hello.yaml": config_map("hello", "hello there"),
        "apps/web/new.yaml": config_map("new", "fresh"),
        "apps/web/secret.yaml": SECRET.format(password="correct-horse"),
    })


def test_objects_added_removed_and_changed_per_kustomization(repo: Path) -> None:
    change(repo)
    code, out = diff("--base", "HEAD", "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    (web,) = [k for k in report["kustomizations"] if k["kustomization"] == "Kustomization/flux-system/web"]
    assert web["cluster"] == "clusters/prod" and web["state"] == "changed" and web["prune"] is True
    got = {(o["state"], o["object"]): o for o in web["objects"]}
    assert set(got) == {("added", "ConfigMap web/new"), ("removed", "ConfigMap web/bye"),
                        ("changed", "ConfigMap web/hello"), ("changed", "Secret web/db")}
    assert got[("changed", "ConfigMap web/hello")]["fields"] == ["data.greeting"]
    assert got[("removed", "ConfigMap web/bye")]["path"] == "apps/web/bye.yaml"  # where it was, in the base
    assert got[("added", "ConfigMap web/new")] | {} == {"state": "added", "object": "ConfigMap web/new",
                                                        "path": "apps/web/new.yaml", "line": 1}
    assert report["summary"] == {"added": 1, "removed": 1, "changed": 2}
    assert not [k for k in report["kustomizations"] if k["kustomization"].endswith("/jobs")]  # untouched


def test_a_changed_secret_names_the_field_never_the_value(repo: Path) -> None:
    change(repo)
    for fmt in ("text", "json"):
        code, out = diff("--base", "HEAD", "--format", fmt)
        assert "stringData.password" in out
        assert "hunter2" not in out and "correct-horse" not in out


def test_a_name_substituted_from_a_secret_is_never_shown(repo: Path) -> None:
    """postBuild fills an object's name from a Secret: the change renames the object, and every format says
    so without the old or the new value."""
    def fleet(value: str) -> dict[str, str]:
        return {
            "clusters/prod/web.yaml": flux_kustomization("web", "./apps/web")
            + "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: vars\n",
            "clusters/prod/vars.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: vars, namespace: flux-system}\n"
                                       f"stringData: {{SUFFIX: {value}}}\n",
            "clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - web.yaml\n  - jobs.yaml\n"
                                                "  - vars.yaml\n",
            "apps/web/hello.yaml": config_map("hello-${SUFFIX}", "hi"),
        }

    write_tree(repo, fleet("oldcanary1"))
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "named by a secret")
    write_tree(repo, fleet("newcanary2"))
    for fmt in ("text", "json", "markdown", "gitlab", "html"):
        code, out = diff("--base", "HEAD", "--format", fmt)
        assert code in (0, 1), out
        assert "canary" not in out, (fmt, out)
    assert "ConfigMap web/hello-***" in diff("--base", "HEAD")[1]


def test_text_output(repo: Path) -> None:
    change(repo)
    code, out = diff("--base", "HEAD")
    assert code == 0
    assert_golden("diff.txt", re.sub(r"base [0-9a-f]{12}", "base BASE", out))


def test_a_removed_kustomization_takes_its_objects_and_prune_says_whether_they_go(repo: Path) -> None:
    write_tree(repo, {"clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - web.yaml\n"})
    code, out = diff("--base", "HEAD")
    assert "Kustomization/flux-system/jobs (clusters/prod): removed, with the 1 object(s) it applied" in out
    assert "Flux deletes them" not in out.split("jobs (clusters/prod)")[1].splitlines()[0]  # prune: false
    write_tree(repo, {"clusters/prod/kustomization.yaml": "resources:\n  - flux-system\n  - jobs.yaml\n"})
    code, out = diff("--base", "HEAD")
    assert "Kustomization/flux-system/web (clusters/prod): removed, with the 3 object(s) it applied " \
           "(prune: true: Flux deletes them)" in out


def test_flipping_prune_is_a_change_of_the_kustomization(repo: Path) -> None:
    write_tree(repo, {"clusters/prod/web.yaml": flux_kustomization("web", "./apps/web", prune=False)})
    code, report = diff("--base", "HEAD", "--format", "json")
    web = next(k for k in json.loads(report)["kustomizations"] if k["kustomization"].endswith("/web"))
    assert web["prune"] is False
    assert web["objects"][0]["fields"] == ["spec.prune"]


def test_a_committed_change_against_its_parent(repo: Path) -> None:
    change(repo)
    _, uncommitted = diff("--base", "HEAD", "--format", "json")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "change")
    _, committed = diff("--base", "HEAD~1", "--format", "json")
    strip = lambda text: {**json.loads(text), "base": None}  # noqa: E731
    assert strip(committed) == strip(uncommitted)
    code, out = diff("--base", "HEAD")
    assert code == 0 and out.startswith("No change to what Flux applies")


def test_the_base_defaults_to_the_merge_request_base(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    change(repo)
    monkeypatch.setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", base)
    _, out = diff("--format", "json")
    assert json.loads(out)["base"] == base and json.loads(out)["summary"]["added"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--base", "no-such-rev"], "no commit of this repository"),
])
def test_a_base_that_is_no_commit_is_a_usage_error(repo: Path, args: list[str], message: str) -> None:
    code, out = diff(*args)
    assert code == 2 and message in out


def test_outside_git_there_is_nothing_to_compare_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path / "plain", {"cm.yaml": config_map("a", "b")})
    monkeypatch.chdir(tmp_path / "plain")
    code, out = diff("--base", "HEAD")
    assert code == 2 and "git" in out and "Traceback" not in out


@pytest.mark.parametrize(("old", "new", "paths"), [
    ({"a": 1}, {"a": 1}, []),
    ({"a": 1}, {"a": "1"}, [("a",)]),  # a type change is a change
    ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "d": 4}}, [("a", "c"), ("a", "d")]),
    ({"l": [1, 2, 3]}, {"l": [1, 5]}, [("l", 1), ("l", 2)]),
    ({"x": 1, "y": 2}, {"y": 2}, [("x",)]),
    ([1], {"a": 1}, [()]),
])
def test_changed_fields(old, new, paths) -> None:
    assert changed_fields(old, new) == paths


def test_danger_signals_as_findings_json_and_code_quality(repo: Path) -> None:
    import jsonschema

    from tests.conftest import shared_path

    change(repo)
    write_tree(repo, {"clusters/prod/jobs.yaml": flux_kustomization("jobs", "./apps/jobs", prune=False)
                      .replace("  interval: 10m\n", "  interval: 10m\n  suspend: true\n")})
    code, out = diff("--base", "HEAD", "--format", "json")
    assert code == 0, out  # danger signals are warnings: below the default --fail-on
    found = sorted((d["rule"], d["path"], d["line"]) for d in json.loads(out)["diagnostics"])
    assert found == [("CHG001", "apps/web/bye.yaml", 1), ("CHG002", "clusters/prod/jobs.yaml", 8)]
    assert diff("--base", "HEAD", "--fail-on", "warning")[0] == 1
    code, out = diff("--base", "HEAD", "--format", "gitlab")
    issues = json.loads(out)
    assert {i["check_name"] for i in issues} == {"gitops-lint/CHG001", "gitops-lint/CHG002"}
    schema = json.loads(shared_path("schemas-external", "gitlab-codequality.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
    for issue in issues:
        assert not [e.message for e in validator.iter_errors(issue)], issue


def test_markdown_note(repo: Path) -> None:
    change(repo)
    code, out = diff("--base", "HEAD", "--format", "markdown")
    assert code == 0
    assert_golden("diff.md", re.sub(r"`[0-9a-f]{12}`", "`BASE`", out))
    assert "hunter2" not in out and "correct-horse" not in out


def test_html_page_colours_the_changes_and_lists_the_signals(repo: Path) -> None:
    change(repo)
    code, page = diff("--base", "HEAD", "--format", "html")
    assert code == 0
    states = re.findall(r"class='node (added|removed|changed|)'", page)
    assert sorted(s for s in states if s) == ["added", "changed", "changed", "removed"]
    assert "CHG001" in page and "apps/web/bye.yaml:1" in page
    assert "hunter2" not in page and "correct-horse" not in page
    assert not re.search(r"""(src|href)=['"]?https?://""", page)


def test_the_markdown_drawing_stays_within_what_gitlab_renders(repo: Path) -> None:
    from gitops_lint.graph_render import MERMAID_BLOCK_LIMIT

    many = {f"apps/web/cm-{i:03}.yaml": config_map(f"cm-{i:03}", "x") for i in range(80)}
    write_tree(repo, {**many, "apps/web/kustomization.yaml": "resources:\n"
                      + "".join(f"  - {Path(p).name}\n" for p in ["hello.yaml", "bye.yaml", "secret.yaml", *many])})
    _, note = diff("--base", "HEAD", "--format", "markdown")
    block = note.split("```mermaid\n")[1].split("```")[0]
    assert len("```mermaid\n" + block + "```") <= MERMAID_BLOCK_LIMIT
    assert re.search(r"\(The drawing shows \d+ of the 80 changed objects", note)
    assert note.count("| `clusters/prod` |") == 1 and "cm-079" in note  # the table and the details list all


def test_json_and_code_quality_golden(repo: Path) -> None:
    change(repo)
    base = git(repo, "rev-parse", "HEAD").strip()
    _, out = diff("--base", "HEAD", "--format", "json")
    assert_golden("diff.json", out.replace(base, "BASE"))
    _, out = diff("--base", "HEAD", "--format", "gitlab")
    assert_golden("diff-codequality.json", out)


def test_agent_configs_changed_added_and_removed(repo: Path) -> None:
    write_tree(repo, {".gitlab/agents/prod/config.yaml": "ci_access:\n  projects:\n    - id: acme/web\n",
                      ".gitlab/agents/old/config.yaml": "ci_access:\n  groups:\n    - id: acme\n"})
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "agents")
    write_tree(repo, {".gitlab/agents/prod/config.yaml": "ci_access:\n  projects:\n    - id: acme/web\n    - id: acme/x\n",
                      ".gitlab/agents/new/config.yaml": "ci_access:\n  projects:\n    - id: acme/y\n"})
    (repo / ".gitlab/agents/old/config.yaml").unlink()
    code, out = diff("--base", "HEAD", "--format", "json")
    report = json.loads(out)
    assert report["agents"] == [
        {"path": ".gitlab/agents/new/config.yaml", "state": "added"},
        {"path": ".gitlab/agents/old/config.yaml", "state": "removed"},
        {"path": ".gitlab/agents/prod/config.yaml", "state": "changed", "fields": ["ci_access.projects[1]"],
         "more_fields": 0}]
    assert [(d["rule"], d["line"]) for d in report["diagnostics"]] == [("CHG009", 4)]
    _, text = diff("--base", "HEAD")
    assert "Agent config .gitlab/agents/prod/config.yaml: changed: ci_access.projects[1]" in text
    _, note = diff("--base", "HEAD", "--format", "markdown")
    assert "- `.gitlab/agents/old/config.yaml` removed" in note


def test_the_diff_page_in_a_browser(repo: Path, tmp_path: Path) -> None:
    from tests.test_html import chromium, shown

    change(repo)
    _, page = diff("--base", "HEAD", "--format", "html")
    path = tmp_path / "diff.html"
    path.write_text(page)
    dom, console, _ = chromium(path.as_uri(), tmp_path)
    assert console == [], console
    total = int(re.search(r'data-total="(\d+)"', dom).group(1))
    assert total == 5 and shown(dom)[0] == total  # the Kustomization and its four changed objects
    assert shown(chromium(path.as_uri() + "#q=bye", tmp_path)[0]) == (total, 1)


def test_a_suppression_comment_silences_a_danger_signal(repo: Path) -> None:
    write_tree(repo, {"clusters/prod/web.yaml": flux_kustomization("web", "./apps/web", prune=False)
                      .replace("  prune: false\n", "  prune: false  # gitops-lint: ignore[CHG002] moving to Argo\n")})
    code, out = diff("--base", "HEAD", "--format", "json")
    assert json.loads(out)["diagnostics"] == []
    result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json", "."])
    assert not [d for d in json.loads(result.output)["diagnostics"] if d["rule"] == "SUP001"]  # not "unused"


def test_output_to_a_file(repo: Path, tmp_path: Path) -> None:
    change(repo)
    target = tmp_path / "note.md"
    code, out = diff("--base", "HEAD", "--format", "markdown", "-o", str(target))
    assert code == 0 and out == "" and target.read_text().startswith("### gitops-lint")


def test_one_run_writes_every_report_asked_for(repo: Path, tmp_path: Path) -> None:
    """`--report FORMAT=FILE`: the CI component's note and Code Quality report from one review."""
    change(repo)
    code, out = diff("--base", "HEAD", "--format", "markdown", "--report", f"gitlab={tmp_path / 'cq.json'}",
                     "--report", f"json={tmp_path / 'review.json'}")
    assert code == 0
    assert out == diff("--base", "HEAD", "--format", "markdown")[1]
    assert (tmp_path / "cq.json").read_text() == diff("--base", "HEAD", "--format", "gitlab")[1]
    assert (tmp_path / "review.json").read_text() == diff("--base", "HEAD", "--format", "json")[1]
    code, out = diff("--base", "HEAD", "--report", f"sarif={tmp_path / 'x'}")
    assert code == 2 and "use FORMAT=FILE with FORMAT one of text, json, markdown, gitlab, html" in out


def test_paths_narrow_the_report_not_the_view(repo: Path) -> None:
    """Flux's view needs the whole repository; `diff apps/web/hello.yaml` reports only what changed there."""
    change(repo)
    _, everything = diff("--base", "HEAD", "--format", "json")
    _, one = diff("--base", "HEAD", "--format", "json", "apps/web/hello.yaml")
    objects = [o["object"] for k in json.loads(one)["kustomizations"] for o in k["objects"]]
    assert objects == ["ConfigMap web/hello"]
    assert len([o for k in json.loads(everything)["kustomizations"] for o in k["objects"]]) == 4
    _, folder = diff("--base", "HEAD", "--format", "json", "apps/")
    assert len([o for k in json.loads(folder)["kustomizations"] for o in k["objects"]]) == 4


def test_a_helm_charts_templates_are_no_manifests_at_the_base_either(repo: Path) -> None:
    """The base revision's files are chosen as `check` chooses them: a chart's templates are not parsed."""
    from gitops_lint.diff import GitTree, base_candidates

    chart = {"charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
             "charts/web/templates/cm.yaml": "{{- if .Values.on }}\nkind: ConfigMap\n{{- end }}\n",
             "other/templates/cm.yaml": config_map("plain", "yes")}
    write_tree(repo, chart)
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "chart")
    rels = base_candidates(GitTree(repo, "HEAD"), [], [], None)
    assert "charts/web/Chart.yaml" in rels and "other/templates/cm.yaml" in rels
    assert "charts/web/templates/cm.yaml" not in rels
    write_tree(repo, {"charts/web/templates/cm.yaml": "{{- if .Values.off }}\nkind: Secret\n{{- end }}\n"})
    code, out = diff("--base", "HEAD")
    assert code == 0 and "templates/cm.yaml" not in out


def test_the_base_revision_knows_its_sourceignore_files(repo: Path) -> None:
    """The base view reads the artifact as the head view does: every `.sourceignore` of the revision counts,
    also one in a folder with no YAML (it turns Flux's defaults off), and its symlinks are no files."""
    from gitops_lint.diff import GitTree, base_discovery

    write_tree(repo, {"docs/.sourceignore": "*.drawio\n", "docs/readme.md": "docs\n"})
    (repo / "apps/web/link.yaml").symlink_to("hello.yaml")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "rules")
    tree = GitTree(repo, "HEAD")
    discovery = base_discovery(tree, ["apps/web/hello.yaml"])
    assert discovery.ignore_files == ["docs/.sourceignore"]
    assert "apps/web/link.yaml" not in tree.blobs
