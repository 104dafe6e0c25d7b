"""End-to-end: the real command line, its outputs, exit codes and start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gitops_lint import __version__
from gitops_lint.cli import main
from tests.conftest import PROJECT, write_tree, assert_golden

GOLDEN = Path(__file__).parent / "golden"

GITREPO = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 10m
  url: https://gitlab.com/acme/app.git
"""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The command in a fresh interpreter, with a cache of its own: a text summary says what came from the
    cache, and golden outputs must not depend on which test ran first."""
    import tempfile

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITOPS_LINT_CONFIG")}
    env["GITOPS_LINT_CACHE_DIR"] = tempfile.mkdtemp(prefix="gitops-lint-cache-")
    return subprocess.run([sys.executable, "-m", "gitops_lint", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def golden(name: str, actual: str) -> None:
    assert_golden(name, actual)


def test_version() -> None:
    out = run(["--version"], PROJECT)
    assert out.returncode == 0 and out.stdout.strip() == f"gitops-lint {__version__}"


def test_version_imports_nothing_heavy() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom gitops_lint.cli import main\n"
            "CliRunner().invoke(main, ['--version'])\n"
            "print(sorted(m for m in ('pydantic', 'jsonschema', 'networkx', 'ruamel.yaml', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


_HEAVY = ("pydantic", "jsonschema", "networkx", "ruamel.yaml", "fastjsonschema", "gitops_lint.model.agent",
          "gitops_lint.view.flux", "gitops_lint.view.kustomize",  # Flux's view: only where one is built
          *(f"gitops_lint.model.flux.{group}" for group in ("source", "kustomize", "helm", "notification", "image")))


def _modules_after(args: list[str], cwd: Path) -> list[str]:
    """The heavy modules a `gitops-lint` command run in a fresh interpreter imported."""
    code = ("import sys\nfrom click.testing import CliRunner\nfrom gitops_lint.cli import main\n"
            f"result = CliRunner().invoke(main, {args!r})\nassert result.exit_code in (0, 1), result.output\n"
            f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd)
    return json.loads(out.stdout.strip().replace("'", '"'))


def test_a_one_file_check_imports_only_what_it_needs(tmp_path: Path) -> None:
    """The pre-commit path: a plain ConfigMap needs no schema validator, no graph library and no Flux view
    (one file is no repository); a cached result (nothing changed) needs not even the typed model."""
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n")
    cache = str(tmp_path / "cache")
    first = _modules_after(["check", "--isolated", "--cache-dir", cache, "cm.yaml"], tmp_path)
    assert first == [], first
    assert _modules_after(["check", "--isolated", "--cache-dir", cache, "cm.yaml"], tmp_path) == []


def test_a_check_of_a_valid_source_builds_only_its_model(tmp_path: Path) -> None:
    """A valid GitRepository: its own model class only (none of HelmRelease, Kustomization, the agent
    config), and no jsonschema, which is imported only to explain an invalid object."""
    (tmp_path / "repo.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\n"
        "  namespace: flux-system\nspec:\n  interval: 10m\n  url: https://gitlab.com/acme/app.git\n"
        "  ref:\n    branch: main\n")
    imported = _modules_after(["check", "--isolated", "--no-cache", "repo.yaml"], tmp_path)
    assert imported == ["gitops_lint.model.flux.source"], imported
    (tmp_path / "repo.yaml").write_text((tmp_path / "repo.yaml").read_text().replace("10m", "10 m"))
    assert "jsonschema" in _modules_after(["check", "--isolated", "--no-cache", "repo.yaml"], tmp_path)


def test_examples_text_golden() -> None:
    out = run(["check", "--color", "never", "examples/"], PROJECT)
    assert out.returncode == 1, out.stderr
    golden("examples.txt", out.stdout)


def test_examples_json_golden_matches_the_contract() -> None:
    out = run(["check", "--format", "json", "examples/"], PROJECT)
    assert out.returncode == 1, out.stderr
    payload = json.loads(out.stdout)
    assert set(payload) == {"tool", "diagnostics", "summary"}
    assert payload["tool"] == {"name": "gitops-lint", "version": __version__}
    assert set(payload["summary"]) == {"files", "documents", "objects", "errors", "warnings", "infos",
                                       "flux_version"}
    assert payload["summary"]["flux_version"]["release"] == "2.9"
    keys = {"rule", "name", "severity", "message", "path", "line", "column", "end_line", "end_column", "object",
            "fingerprint"}
    for d in payload["diagnostics"]:
        assert set(d) == keys
        assert d["path"].startswith("examples/") and "\\" not in d["path"]
        assert d["line"] >= 1 and d["column"] >= 1
    assert {d["rule"] for d in payload["diagnostics"]} == {"AGT001", "TYP001", "YAML002", "REF002"}
    golden("examples.json", out.stdout)


def test_clean_repo_exits_0(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.yaml": GITREPO})
    out = run(["check", "."], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All clear: 1 file, 1 document, 1 object checked." in out.stdout


def test_findings_exit_1_and_fail_on(tmp_path: Path) -> None:
    write_tree(tmp_path, {"platform/.gitlab/agents/prod/config.yaml": "flux: {}\n"})
    assert run(["check", "."], tmp_path).returncode == 0  # an info does not fail by default
    assert run(["check", "--fail-on", "info", "."], tmp_path).returncode == 1


def test_exit_2_for_usage_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.yaml": GITREPO})
    for args in (["check", "missing/"], ["check", "--select", "NOPE999", "."], ["check", "--report", "x", "."]):
        out = run(args, tmp_path)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr


def test_exit_2_when_nothing_to_read(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    out = run(["check", "."], tmp_path)
    assert out.returncode == 2 and "no YAML files" in out.stderr


def test_config_unknown_key_is_exit_2_naming_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.yaml": GITREPO, ".gitops-lint.yaml": "ignroe: [YAML001]\n"})
    out = run(["check", "."], tmp_path)
    assert out.returncode == 2
    assert "unknown configuration key 'ignroe'" in out.stderr and "did you mean 'ignore'" in out.stderr


def test_config_select_ignore_severity_and_excludes(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "a.yaml": "a: 1\na: 2\n",
        "vendor/b.yaml": "b: [\n",
        ".gitops-lint.yaml": "severity: {duplicate-key: warning}\nexclude: ['vendor/**']\n",
    })
    out = run(["check", "--format", "json", "."], tmp_path)
    payload = json.loads(out.stdout)
    assert [(d["rule"], d["severity"], d["path"]) for d in payload["diagnostics"]] == [("YAML002", "warning", "a.yaml")]
    assert out.returncode == 0
    # an excluded file stays excluded when named explicitly (pre-commit passes file names)
    out = run(["check", "vendor/b.yaml"], tmp_path)
    assert out.returncode == 0 and "0 files" in out.stdout
    out = run(["check", "--format", "json", "--ignore", "YAML", "a.yaml"], tmp_path)
    assert json.loads(out.stdout)["diagnostics"] == []


def test_inline_and_file_suppressions(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "a.yaml": "a: 1\na: 2  # gitops-lint: ignore[YAML002] kept on purpose\n",
        "b.yaml": "# gitops-lint: ignore-file[duplicate-key]\nb: 1\nb: 2\n",
        "c.yaml": "# gitops-lint: ignore[YAML002]\nc: 1\n# gitops-lint: ignore[NOPE001]\nd: 1\n",
    })
    out = run(["check", "--format", "json", "."], tmp_path)
    found = [(d["rule"], d["path"], d["line"]) for d in json.loads(out.stdout)["diagnostics"]]
    assert found == [("SUP001", "c.yaml", 1), ("SUP001", "c.yaml", 3)]


def test_output_file_and_reports(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\na: 2\n"})
    out = run(["check", "--output", "out.txt", "--report", "json=reports/r.json", "."], tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert "YAML002" in (tmp_path / "out.txt").read_text()
    assert json.loads((tmp_path / "reports/r.json").read_text())["summary"]["errors"] == 1
    assert not [p for p in tmp_path.rglob(".*.*") if p.is_file() and p.name.startswith(".out")]


def test_color(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\na: 2\n"})
    assert "\x1b[" in run(["check", "--color", "always", "."], tmp_path).stdout
    assert "\x1b[" not in run(["check", "."], tmp_path).stdout  # not a terminal
    env_run = subprocess.run([sys.executable, "-m", "gitops_lint", "check", "."], cwd=tmp_path, capture_output=True,
                             text=True, env={**os.environ, "FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in env_run.stdout  # NO_COLOR beats FORCE_COLOR


def test_quiet_prints_findings_only(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\na: 2\n"})
    out = run(["check", "-q", "."], tmp_path)
    assert out.stdout.splitlines() == [
        "a.yaml:2:1: error YAML002 duplicate key a (first defined at line 1): the later value silently replaces the "
        "earlier one"
    ]


def test_rules_and_explain() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["rules"])
    assert listing.exit_code == 0 and "YAML001" in listing.output and "syntax-error" in listing.output
    as_json = json.loads(runner.invoke(main, ["rules", "--format", "json"]).output)
    assert {"id", "name", "severity", "summary", "rationale", "fix", "references"} <= set(as_json[0])
    by_id = runner.invoke(main, ["explain", "YAML002"])
    by_name = runner.invoke(main, ["explain", "duplicate-key"])
    assert by_id.exit_code == 0 and by_id.output == by_name.output
    assert by_id.output.startswith("# duplicate-key (YAML002)") and "## Why is this bad?" in by_id.output
    missing = runner.invoke(main, ["explain", "duplicate-keys"])
    assert missing.exit_code == 2 and "did you mean" in missing.output


def test_fingerprints_stable_when_unrelated_lines_move(tmp_path: Path) -> None:
    body = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n" \
           "spec:\n  prune: 'yes'\n"
    write_tree(tmp_path, {"k.yaml": body})
    first = json.loads(run(["check", "--format", "json", "."], tmp_path).stdout)["diagnostics"]
    write_tree(tmp_path, {"k.yaml": "# a comment\n# another\n" + body})
    second = json.loads(run(["check", "--format", "json", "."], tmp_path).stdout)["diagnostics"]
    assert [d["line"] for d in first] != [d["line"] for d in second]
    assert [d["fingerprint"] for d in first] == [d["fingerprint"] for d in second]


def test_never_a_traceback_on_hostile_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "bin.yaml": b"\x00\x01\x02",
        "latin.yaml": b"a: M\xfcnchen\n",
        "conflict.yaml": "<<<<<<< HEAD\na: 1\n=======\na: 2\n>>>>>>> x\n",
        "tabs.yaml": "a:\n\tb: 1\n",
        "list.yaml": "- 1\n- 2\n",
        "scalar.yaml": "just text\n",
        "empty.yaml": "",
        "kustomization": "resources: [a.yaml]\n",
        "deep.yaml": "[" * 5000,
        "weird.yaml": "? [a, b]\n: 1\n{x: 1}: 2\n",
        "agent/.gitlab/agents/x/config.yaml": "- not a mapping\n",
    })
    out = run(["check", "--format", "json", "."], tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    rules = sorted({d["rule"] for d in json.loads(out.stdout)["diagnostics"]})
    # real findings among the hostile files: the extensionless kustomization names a missing a.yaml, and
    # the agent config is a list where GitLab expects a mapping (TYP001)
    assert rules == ["REF006", "TYP001", "YAML003", "YAML004", "YAML005", "YAML006", "YAML007"]


def test_custom_rules_from_the_users_repository(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(Path(__file__).parent / "fixtures" / "custom-rules", tmp_path / "lint-rules")
    write_tree(tmp_path, {
        ".gitops-lint.yaml": "custom-rules: [lint-rules]\n",
        "apps.yaml": ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
                      "  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n"),
    })
    out = run(["check", "--format", "json", "--select", "ACME001", "."], tmp_path)
    (finding,) = json.loads(out.stdout)["diagnostics"]
    assert finding["rule"] == "ACME001" and finding["severity"] == "warning" and finding["line"] == 6
    assert "spec.targetNamespace is missing: objects would otherwise land in flux-system" == finding["message"]
    listing = run(["rules", "--config", ".gitops-lint.yaml"], tmp_path)
    assert "ACME001" in listing.stdout and "target-namespace-required" in listing.stdout
    # the custom rule's own examples hold, as the built-in ones do
    from gitops_lint.catalogue import load_catalogue
    from tests.test_rule_examples import run_example

    from gitops_lint.config import Config

    rule = load_catalogue([tmp_path / "lint-rules"]).get("ACME001")
    config = Config(custom_rules=[tmp_path / "lint-rules"])
    for index, example in enumerate(rule.examples):
        folder = tmp_path / f"example{index}"
        folder.mkdir()
        lines = {d.span.line for d in run_example(folder, example, rule.id, config) if d.rule == "ACME001"}
        assert lines == set(example.lines)


def test_output_to_a_pipe_or_through_a_link_keeps_what_is_there(tmp_path: Path) -> None:
    """`-o` into something that is no regular file (a named pipe here; /dev/null alike) is written in place,
    never renamed over: as root that replaced /dev/null with a file. Through a symlink, the file it names
    is written and the link stays."""
    import stat
    import threading

    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)  # never a hang
    reader.start()
    result = run(["check", "--isolated", "--format", "json", "-o", str(pipe), "cm.yaml"], tmp_path)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and received, "the pipe was replaced, not written"
    assert json.loads(received[0])["summary"]["files"] == 1
    (tmp_path / "reports").mkdir()
    (tmp_path / "link.json").symlink_to(tmp_path / "reports" / "real.json")
    result = run(["check", "--isolated", "--format", "json", "-o", "link.json", "cm.yaml"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.json").is_symlink() and json.loads((tmp_path / "reports" / "real.json").read_text())


def test_a_folder_named_outside_git_is_said_to_be_checked_as_part_of_the_one_run_in(tmp_path: Path) -> None:
    """Outside git the root is the folder the run is in: `check fleet/` from its parent does not follow Flux's
    paths (they start at fleet/), which looked like a full check; the run says so on stderr."""
    write_tree(tmp_path / "fleet", {"clusters/prod/apps.yaml": (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: "
        "flux-system}\nspec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, "
        "name: flux-system}}\n")})
    from_parent = run(["check", "--isolated", "--no-cache", "fleet"], tmp_path)
    assert "fleet is not a git work tree, so it is checked as part of the folder you run in" in from_parent.stderr
    inside = run(["check", "--isolated", "--no-cache", "."], tmp_path / "fleet")
    assert "not a git work tree" not in inside.stderr and "REF005" in inside.stdout


def test_an_empty_changed_since_is_a_usage_error(tmp_path: Path) -> None:
    """`--changed-since "$UNSET"` ran the full check without a word, as if scoped: exit 2 and say why."""
    write_tree(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    out = run(["check", "--isolated", "--changed-since", "", "."], tmp_path)
    assert out.returncode == 2 and "--changed-since: the revision is empty" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_file_that_cannot_be_read_is_not_said_to_come_from_the_cache(tmp_path: Path) -> None:
    """A symlink loop is neither read nor cached: the summary said "(all from the cache)" with --no-cache."""
    (tmp_path / "a.yaml").symlink_to("a.yaml")
    out = run(["check", "--isolated", "--no-cache", "a.yaml"], tmp_path)
    assert out.returncode == 1 and "Found 1 error in 1 file" in out.stdout and "cache" not in out.stdout
