"""Command line: parse options, call the engine, render, exit 0/1/2. Nothing else happens here.

Heavy imports (pydantic, jsonschema, networkx) stay inside the commands so
`--version` and the pre-commit path start fast.
"""

from __future__ import annotations

import gc
import os
import re
import stat
import sys
from pathlib import Path

import click

from gitops_lint import __version__
from gitops_lint.report import FORMATS as REPORT_FORMATS
from gitops_lint.exits import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERRUPTED

class FluxRelease(click.ParamType):
    """`--flux-version 2.N`: one of the releases the schemas ship for, read only when the option is given
    (nothing on the start-up path)."""

    name = "2.N"

    def convert(self, value, param, ctx):  # noqa: ANN001 - click's signature
        from gitops_lint.schema_index import flux_releases

        if value in flux_releases():
            return value
        self.fail(f"{value!r} is not a Flux release gitops-lint has schemas for ({', '.join(flux_releases())})",
                  param, ctx)


FLUX_VERSIONS = FluxRelease()


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def use_color(mode: str, stream) -> bool:
    """--color beats NO_COLOR, which beats FORCE_COLOR, which beats TTY detection."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def write_atomically(path: Path, text: str) -> None:
    """A report or manifest written through a temporary file renamed over the target, its folder made;
    through a symlink, the file it names. A target that is no regular file (`-o /dev/null`, a named
    pipe, /dev/stdout) is written in place: renaming over it would replace the device with a file
    (as root, /dev/null itself, for every program on the machine)."""
    from gitops_lint.cache import write_atomically as write_bytes

    data = text.encode("utf-8")
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False  # nothing there yet (or a dangling link): a new file
    if special:
        with open(path, "wb") as out:
            out.write(data)
        return
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(target, [data])


def resolve_config(paths: list[str], config_path: Path | None, isolated: bool, cwd: Path | None = None):
    """The configuration for a run on `paths`: --config, else the nearest file upwards (to the git root)."""
    from gitops_lint.config import find_config, load_config
    from gitops_lint.discover import DiscoveryError, find_root

    cwd = cwd or Path.cwd()
    for p in paths:
        if not Path(p).exists():
            raise DiscoveryError(f"path does not exist: {p}")
    root, in_git = find_root([cwd / p for p in paths], cwd)
    if isolated:
        return load_config(None), root
    return load_config(config_path or find_config(cwd / paths[0], root if in_git else None)), root


def fail(message: str) -> "NoReturn":  # noqa: F821
    click.echo(f"gitops-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="gitops-lint", message="%(prog)s %(version)s")
def main() -> None:
    """Lint GitLab agent configs and Flux manifests before you push."""


def entry() -> None:
    """The console script: `main`, then an exit that skips freeing the heap one object at a time.

    A large check leaves millions of small objects; the interpreter's teardown would spend seconds
    deallocating what the operating system takes back at once. Streams are flushed first; nothing
    else waits for the teardown (files are written atomically before this point)."""
    # The configuration's model is internal: no pydantic plugin has business with it, and looking for plugins
    # scans every installed package's entry points (about 10 ms of each start).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # No cyclic collection in a process that exits when the command is done: what a run builds lives to
    # the end, and the collector's full passes would walk that heap again and again (a second at 50k files).
    gc.disable()
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # a closed pipe (`| head`): the output's reader is gone; the exit code still stands
    os._exit(code or 0)


#: What `diff` writes: its review as text, JSON, a merge request note, a Code Quality report, a page.
DIFF_FORMATS = ("text", "json", "markdown", "gitlab", "html")


def _parse_reports(values: tuple[str, ...], formats: tuple[str, ...] = REPORT_FORMATS) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        fmt, sep, target = value.partition("=")
        if not sep or not target or fmt not in formats:
            raise click.BadParameter(f"{value!r}: use FORMAT=FILE with FORMAT one of {', '.join(formats)}",
                                     param_hint="--report")
        out.append((fmt, Path(target)))
    return out


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Configuration file (default: .gitops-lint.yaml found upwards to the git root).")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--flux-version", type=FLUX_VERSIONS, help="Flux release to validate against.")
@click.option("--gitlab-version", metavar="MAJOR.MINOR",
              help="GitLab release the agent configs must suit (default: the newest).")
@click.option("--select", multiple=True, help="Rules to run: ids, names or prefixes, comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to add to the selection.")
@click.option("--ignore", multiple=True, help="Rules to skip.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE",
              help="Also write a report in FORMAT to FILE (repeatable).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Lowest severity that makes the exit code 1 (default: error).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (2 still means an error).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no code frames, no summary.")
@click.option("--statistics", is_flag=True, help="After the report, print how many findings each rule made.")
@click.option("--repo-context", is_flag=True,
              help="Load the whole repository for references, report only on PATHS (what the pre-commit hook uses).")
@click.option("--changed-since", metavar="REV",
              help="Report only on files changed since git revision REV; 'auto' reads CI_MERGE_REQUEST_DIFF_BASE_SHA.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Do not report findings recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Record every current finding in FILE and exit 0.")
@click.option("--fix", "fix_findings", is_flag=True,
              help="Repair what can be repaired safely, in place (only the characters each fix covers change).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: also apply fixes that change meaning.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache folder (default: .gitops-lint-cache at the repository root; env GITOPS_LINT_CACHE_DIR).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Worker processes that parse files (default: the number of usable cores; 1: none).")
def check(paths, config_path, isolated, flux_version, gitlab_version, select, extend_select, ignore, fmt, output, reports,
          fail_on, exit_zero, color, quiet, statistics, repo_context, changed_since, baseline_path,
          write_baseline_path, fix_findings, unsafe_fixes, show_diff, cache_dir, no_cache, jobs) -> None:
    """Lint PATHS (files or folders; default: the current folder)."""
    from gitops_lint.baseline import BaselineError, render_baseline
    from gitops_lint.catalogue import CatalogueError
    from gitops_lint.config import ConfigError
    from gitops_lint.diagnostics import Severity
    from gitops_lint.discover import DiscoveryError
    from gitops_lint.engine import LintOptions, UsageError, lint
    from gitops_lint.load import default_jobs
    from gitops_lint.report import ReportInput, renderer

    report_targets = _parse_reports(reports)
    paths = list(paths) or ["."]
    cwd = Path.cwd()
    if changed_since is not None and not changed_since.strip():
        # `--changed-since "$UNSET"` in a pipeline: a full check run silently in its place would look scoped
        fail("--changed-since: the revision is empty (a CI variable not set?); name one, or use auto")
    if changed_since == "auto":
        changed_since = os.environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None
        if changed_since is None:
            click.echo("gitops-lint: CI_MERGE_REQUEST_DIFF_BASE_SHA is not set: checking every file", err=True)
    try:
        config, _ = resolve_config(_resolvable(paths), config_path, isolated)
        if gitlab_version:
            if not re.fullmatch(r"[0-9]+\.[0-9]+", gitlab_version):
                raise UsageError(f"--gitlab-version {gitlab_version!r}: use MAJOR.MINOR, e.g. 17.5")
            config.gitlab_version = gitlab_version
        options = LintOptions(
            paths=paths, config=config, select=_split(select) or None, extend_select=_split(extend_select),
            ignore=_split(ignore), flux_version=flux_version, cwd=cwd, repo_context=repo_context,
            changed_since=changed_since, progress=_progress() if not quiet else None,
            baseline=None if write_baseline_path is not None else baseline_path,
            use_cache=not no_cache, cache_dir=cache_dir, jobs=jobs or default_jobs(),
        )
        if fix_findings or show_diff:
            result = _fixed(options, unsafe_fixes, show_diff)
        else:
            result = lint(options)
        if options.progress is not None:
            options.progress(0, 0)
        if write_baseline_path is not None:
            write_atomically(write_baseline_path, render_baseline(result.diagnostics))
            click.echo(f"gitops-lint: wrote {len(result.diagnostics)} finding(s) to {write_baseline_path}", err=True)
            sys.exit(EXIT_CLEAN)
        stale = result.stale_baseline
    except (ConfigError, UsageError, DiscoveryError, CatalogueError, BaselineError) as exc:
        fail(str(exc))
    except OSError as exc:  # the baseline written, or a read the run cannot go without
        fail(f"cannot {'write' if write_baseline_path is not None else 'read'}: {exc}")
    except Exception as exc:  # noqa: BLE001 - the user gets a message and exit 2, never a traceback
        if os.environ.get("GITOPS_LINT_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set GITOPS_LINT_DEBUG=1 for a traceback)")

    # Nothing read: exit 2, and no "All clear" on stdout; what discovery reported (an unreadable
    # folder, compile output left out) is still shown, it says why.
    nothing_read = result.nothing_read
    if nothing_read and not result.diagnostics:
        fail("no YAML files found to check in " + _named(paths))
    summary = result.summary.to_json()
    if result.flux_version is not None:
        summary["flux_version"] = result.flux_version  # which Flux release judged the files, and why
    if fmt == "text" and result.summary.from_cache:
        summary["from_cache"] = result.summary.from_cache
    stream = sys.stdout
    main_report = ReportInput(result.diagnostics, summary, result.catalogue,
                              color=fmt == "text" and output is None and use_color(color, stream), quiet=quiet)
    text = renderer(fmt)(main_report)
    if statistics and fmt == "text":
        text += _statistics(result.diagnostics, result.catalogue)
    try:
        if output is not None:
            write_atomically(output, text)
        else:
            stream.write(text)
        for report_fmt, target in report_targets:
            extra = ReportInput(result.diagnostics, summary, result.catalogue)
            write_atomically(target, renderer(report_fmt)(extra))
    except OSError as exc:
        fail(f"cannot write report: {exc}")
    stream.flush()
    if statistics and fmt != "text":
        click.echo(_statistics(result.diagnostics, result.catalogue), err=True, nl=False)
    if stale:
        click.echo(f"gitops-lint: {len(stale)} baseline entr{'y' if len(stale) == 1 else 'ies'} matched no finding "
                   f"(fixed?); rewrite the baseline with --write-baseline to drop:", err=True)
        for entry in stale:
            click.echo(f"  {entry.get('path')}: {entry.get('rule')} {entry.get('message', '')}", err=True)
    if os.environ.get("GITOPS_LINT_TIMINGS"):
        click.echo("timings: " + ", ".join(f"{k} {v:.3f}s" for k, v in result.timings.items()), err=True)
    for message in result.warnings:
        click.echo(f"gitops-lint: warning: {message}", err=True)
    for message in result.internal_errors:
        click.echo(f"gitops-lint: {message}", err=True)
    if nothing_read:
        fail("no YAML file could be read in " + _named(paths) + " (see the findings above)")
    sys.exit(result.exit_code(Severity.parse(fail_on or options.config.fail_on), exit_zero))


def _fixed(options, unsafe: bool, show_diff: bool):
    """Lint, apply the fixes, lint again, until nothing more is fixed (a few passes at most); the last
    lint's result. With `show_diff`, the first pass's fixes are printed and nothing is written."""
    import dataclasses
    import gc

    from gitops_lint.engine import lint
    from gitops_lint.fix import plan, write

    options = dataclasses.replace(options, fixing=True)
    fixed, touched, created = 0, set(), set()
    for number in range(4):
        if number:
            gc.collect()  # the console script runs without the collector: free the cycles earlier passes left
        result = lint(options)
        files = result.context.files if result.context is not None else []
        planned = plan(result.diagnostics, files, unsafe, result.root)
        for rel, why in planned.skipped:
            click.echo(f"gitops-lint: {rel}: {why}", err=True)
        if show_diff:
            click.echo(planned.diff(files), nl=False)
            sys.exit(EXIT_FINDINGS if planned.texts else EXIT_CLEAN)
        if not planned.texts:
            break
        left = dict(write(planned, files, result.root))
        for rel, why in left.items():
            click.echo(f"gitops-lint: {rel}: {why}", err=True)
        done = [d for d in planned.fixed if d.path not in left]
        if not done:
            break
        fixed += len(done)
        touched |= {d.path for d in done}
        created |= planned.created - set(left)
    made = f", and wrote {len(created)} new file(s): {', '.join(sorted(created))}" if created else ""
    click.echo(f"gitops-lint: fixed {fixed} finding(s) in {len(touched)} file(s){made}", err=True)
    return result


def _resolvable(paths: list[str]) -> list[str]:
    """`paths` for finding the configuration: a broken or looping symlink stands for its folder (same
    configuration, same root), so discovery gets to report it (YAML009) instead of "does not exist"."""
    return [os.path.dirname(p) or "." if os.path.islink(p) and not os.path.exists(p) else p for p in paths]


def _named(paths: list[str]) -> str:
    """The paths the user named, as `check`'s messages print them."""
    from gitops_lint.discover import printable

    return ", ".join(printable(p) for p in paths)


def _progress():
    """A progress line on stderr, only on a terminal and only for runs long enough to need one."""
    if not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("PRE_COMMIT"):
        return None

    def show(done: int, total: int) -> None:
        if total >= 2000:
            sys.stderr.write(f"\rgitops-lint: reading {done}/{total} files")
        elif total == 0:
            sys.stderr.write("\r\x1b[K")  # done: erase the line
        sys.stderr.flush()

    return show


def _statistics(diagnostics, catalogue) -> str:
    """Counts per rule, most frequent first (ruff's --statistics)."""
    from collections import Counter

    counts = Counter(d.rule for d in diagnostics)
    lines = []
    for rule_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = catalogue.get(rule_id)
        lines.append(f"{count:>6} {rule_id:<8} {rule.name if rule else ''}")
    return "\n".join(lines) + "\n" if lines else ""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["tree", "mermaid", "dot", "json", "html"]), default="tree",
              show_default=True, help="html: one self-contained page to look at (filter, search, links).")
@click.option("--focus", metavar="Kind/namespace/name", help="Only what this object reaches and what reaches it.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
def graph(paths, fmt, focus, config_path, isolated, output) -> None:
    """Draw the dependency graph of PATHS: tree (like `flux tree`), mermaid (for GitLab), dot, json or html."""
    from gitops_lint.config import ConfigError
    from gitops_lint.discover import DiscoveryError
    from gitops_lint.engine import LintOptions, load_context
    from gitops_lint.graph_render import RENDERERS, build_view

    paths = list(paths) or ["."]
    try:
        config, _ = resolve_config(paths, config_path, isolated)
        ctx = load_context(LintOptions(paths=paths, config=config, cwd=Path.cwd()))
        try:
            view = build_view(ctx, focus)
        except KeyError:
            import difflib

            keys = [ctx.graph.key(o) for o in ctx.graph.objects]
            close = difflib.get_close_matches(focus or "", keys, n=3)
            raise DiscoveryError(f"--focus {focus}: no such object" + (f" (did you mean {', '.join(close)}?)"
                                                                       if close else "")) from None
        text = RENDERERS[fmt](view)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:  # noqa: BLE001 - the user gets a message and exit 2, never a traceback
        _internal_error(exc)
    if output is not None:
        try:
            write_atomically(output, text)
        except KeyboardInterrupt:  # the temporary file is gone; the target is the old one or the new one
            _interrupted()
        except OSError as exc:  # an unwritable folder, a full disk: name the file asked for, not a temporary one
            fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        click.echo(text, nl=False)


@main.command("compile")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--output", "-o", "out", metavar="DIR",
              help="Folder to write (replaced as a whole, atomically), or - for one stream on stdout.")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 when DIR is not up to date.")
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change as a unified diff; write nothing.")
@click.option("--defaults", type=click.Choice(["omit", "explicit"]), default="omit", show_default=True,
              help="Drop fields equal to their schema default, or write every default out.")
@click.option("--flux-version", type=FLUX_VERSIONS, help="Flux release to migrate apiVersions to.")
@click.option("--force", is_flag=True, help="Compile even when the repository has error-level findings.")
@click.option("--migrate", is_flag=True,
              help="Also turn legacy gitops.manifest_projects of agent configs into Flux objects, with a report.")
@click.option("--source", "migrate_source", type=click.Choice(["git", "oci"]), default="git", show_default=True,
              help="With --migrate: the kind of Flux source to create.")
@click.option("--migration-report", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="With --migrate: also write the migration report as JSON to FILE.")
@click.option("--substitute", is_flag=True,
              help="Replace ${VAR} with its value from the applying Kustomization's postBuild.substitute, "
                   "where that value is certain.")
@click.option("--with-agent-objects", is_flag=True,
              help="Add the Receiver and Secret the GitLab agent creates for each GitRepository on its instance.")
@click.option("--oci", "oci_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also (or only) write a Flux OCI artifact per unit into an OCI image layout at DIR.")
@click.option("--oci-url", metavar="oci://REGISTRY/PATH",
              help="Where the artifacts will be pushed: with it, --oci also writes the OCIRepository and "
                   "Kustomization consuming each (default: oci://$CI_REGISTRY_IMAGE when set).")
@click.option("--push", "push_url", metavar="oci://REGISTRY/PATH",
              help="With --oci: push each artifact to PATH/<unit>:<tag> (and consume it from there).")
@click.option("--oci-tag", metavar="TAG", help="Tag to push (default: <branch>-<commit>, else latest).")
@click.option("--creds", metavar="USER:PASSWORD", envvar="GITOPS_LINT_REGISTRY_CREDS",
              help="Registry credentials (env GITOPS_LINT_REGISTRY_CREDS; in GitLab CI the job's own for "
                   "CI_REGISTRY; else the docker config).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
def compile_command(paths, out, check_only, show_diff, defaults, flux_version, force, migrate, migrate_source,
                    migration_report, substitute, with_agent_objects, oci_dir, oci_url, push_url, oci_tag, creds,
                    config_path, isolated) -> None:
    """Write every GitOps object of PATHS in one canonical form under DIR (same relative layout), and/or
    Flux OCI artifacts of them (--oci)."""
    if out is None and oci_dir is None:
        raise click.UsageError("name an output: -o DIR, -o - (stdout) or --oci DIR")
    if push_url is not None and oci_dir is None:
        raise click.UsageError("--push sends what --oci DIR builds: name the folder")
    if push_url is not None and not push_url.startswith("oci://"):
        raise click.BadParameter(f"{push_url!r}: an oci:// URL", param_hint="--push")
    oci_url = oci_url or push_url
    if oci_url is None and os.environ.get("CI_REGISTRY_IMAGE"):
        oci_url = f"oci://{os.environ['CI_REGISTRY_IMAGE']}"
    if oci_url is not None and not oci_url.startswith("oci://"):
        raise click.BadParameter(f"{oci_url!r}: an oci:// URL", param_hint="--oci-url")
    try:
        _compile(paths, out, check_only, show_diff, defaults, flux_version, force, migrate, migrate_source,
                 migration_report, substitute, with_agent_objects, config_path, isolated, oci_dir, oci_url,
                 (push_url, oci_tag, creds))
    except KeyboardInterrupt:
        _interrupted()




def _interrupted() -> "NoReturn":  # noqa: F821
    """Ctrl-C (SIGINT): what could be cleaned up was, on the way out; say so and exit 130, not click's 1."""
    click.echo("\ngitops-lint: interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


def _compile(paths, out, check_only, show_diff, defaults, flux_version, force, migrate, migrate_source,
             migration_report, substitute, with_agent_objects, config_path, isolated, oci_dir=None,
             oci_url=None, pushing=(None, None, None)) -> None:
    from gitops_lint.compile.run import CompileRequest, compile_project
    from gitops_lint.config import ConfigError
    from gitops_lint.discover import DiscoveryError
    from gitops_lint.engine import UsageError

    paths = list(paths) or ["."]
    if migration_report is not None and not migrate:
        fail("--migration-report needs --migrate")
    if out == "-" and (check_only or show_diff):
        fail("--check and --diff compare with an output folder: name one with -o DIR, not -o -")
    if out is None and (check_only or show_diff):
        fail("--check and --diff compare with an output folder: name one with -o DIR")
    out_dir = None if out in ("-", None) else (Path.cwd() / out).resolve()
    cwd = _compile_root(paths)
    if cwd is not None:
        paths = ["."]
    cwd = cwd or Path.cwd()
    try:
        config, _ = resolve_config(paths, config_path, isolated, cwd)
        outcome = compile_project(CompileRequest(
            paths=paths, config=config, cwd=cwd, out_dir=out_dir, defaults=defaults, flux_version=flux_version,
            force=force, migrate=migrate, migrate_source=migrate_source, substitute=substitute,
            with_agent_objects=with_agent_objects))
    except (ConfigError, UsageError, DiscoveryError, ValueError) as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - the user gets a message and exit 2, never a traceback
        _internal_error(exc)
    if outcome.refused:
        for d in outcome.refused[:20]:
            click.echo(f"{d.path}:{d.span.line}:{d.span.column}: error {d.rule} {d.message}", err=True)
        # A finding, not a usage error: exit 1, as `check` would.
        click.echo(f"gitops-lint: {len(outcome.refused)} error-level finding(s): fix them first (gitops-lint check), "
                   "or compile with --force", err=True)
        sys.exit(EXIT_FINDINGS)
    from gitops_lint.compile import CompileError, check_tree, diff_tree, stream, write_tree
    from gitops_lint.secrets import redact

    if outcome.migration is not None:
        from gitops_lint.compile.legacy import render_report, report_json

        click.echo(redact(render_report(outcome.migration)), err=True, nl=False)
        if migration_report is not None:
            try:
                write_atomically(migration_report, report_json(outcome.migration))
            except OSError as exc:
                fail(f"cannot write {migration_report}: {exc.strerror or exc}")
    compiled = outcome.compiled
    for rel, line, message in compiled.warnings:
        click.echo(redact(f"{rel}:{line}: warning {message}"), err=True)
    for rel, line, message in compiled.errors:
        click.echo(redact(f"{rel}:{line}: error {message}"), err=True)
    if oci_dir is not None and not (check_only or show_diff):
        from gitops_lint.compile.oci import write_artifacts

        configured = [(u["name"], u["path"]) for u in config.oci_units] or None
        try:
            built = write_artifacts(outcome.lint.context, compiled.outputs, (Path.cwd() / oci_dir).resolve(),
                                    oci_url, configured)
        except OSError as exc:
            fail(f"cannot write {oci_dir}: {exc.strerror or exc}")
        for unit, artifact in built:
            click.echo(f"gitops-lint: artifact {unit.name}: {unit.folder or '.'} ({artifact.files} files, "
                       f"{len(artifact.layer.data):,} bytes) {artifact.digest}", err=True)
        click.echo(f"gitops-lint: wrote {len(built)} artifact(s) to {oci_dir}"
                   + ("" if oci_url else " (give --oci-url for the objects that consume them)"), err=True)
        push_url, tag, creds = pushing
        if push_url is not None:
            from gitops_lint.compile.oci import PushError, default_tag, push

            try:
                for reference in push((Path.cwd() / oci_dir).resolve(), [a for _, a in built], push_url,
                                      tag or default_tag(outcome.lint.context.settings.root), creds):
                    click.echo(f"gitops-lint: pushed {reference}", err=True)
            except PushError as exc:
                fail(f"push: {exc}")
        if out is None:
            sys.exit(EXIT_FINDINGS if compiled.errors else EXIT_CLEAN)
    if out_dir is None:
        click.echo(stream(compiled.outputs), nl=False)
    elif check_only or show_diff:
        try:
            if show_diff:
                click.echo(diff_tree(compiled.outputs, out_dir, compiled.secret_files, shown=out), nl=False)
            stale = check_tree(compiled.outputs, out_dir, shown=out)
        except CompileError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot read {out}: {exc.strerror or exc}")
        if check_only:
            for line in stale:
                click.echo(line, err=True)
        if stale:
            sys.exit(EXIT_FINDINGS)
    else:
        def waiting() -> None:
            click.echo(f"gitops-lint: another run is writing beside {out}; waiting for it to finish", err=True)

        try:
            write_tree(compiled.outputs, out_dir, shown=out, waiting=waiting)
        except CompileError as exc:
            fail(str(exc))
        except OSError as exc:  # CompileError names the folder; anything else still must not be a traceback
            fail(f"cannot write {out}: {exc.strerror or exc}")
        click.echo(f"gitops-lint: wrote {len(compiled.outputs)} file(s) to {out}", err=True)
    sys.exit(EXIT_FINDINGS if compiled.errors else EXIT_CLEAN)


def _internal_error(exc: Exception) -> "NoReturn":  # noqa: F821
    """A bug of ours in `compile` or `graph`: a message and exit 2, never a traceback (unless asked for)."""
    if os.environ.get("GITOPS_LINT_DEBUG"):
        raise exc
    fail(f"internal error: {type(exc).__name__}: {exc} (set GITOPS_LINT_DEBUG=1 for a traceback)")


def _compile_root(paths: list[str]) -> Path | None:
    """The folder to compile as the repository root, when that is not the git work tree: a single folder
    named outside git. Its Kustomizations' paths are relative to it, so the output's layout must be too."""
    from gitops_lint.discover import git_root

    if len(paths) != 1 or not Path(paths[0]).is_dir():
        return None
    folder = Path(paths[0]).resolve()
    return folder if git_root(folder) is None else None


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also list the custom rules this configuration adds.")
def rules_command(fmt: str, config_path: Path | None) -> None:
    """List the rule catalogue."""
    import json

    catalogue = _catalogue(config_path)
    if fmt == "json":
        click.echo(json.dumps([_rule_json(r) for r in catalogue.rules], indent=2))
        return
    width = max(len(r.name) for r in catalogue.rules)
    for rule in catalogue.rules:
        click.echo(f"{rule.id:<8} {rule.name:<{width}}  {rule.severity.label:<7}  {rule.summary}")


@main.command()
@click.argument("rule")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def explain(rule: str, config_path: Path | None) -> None:
    """Print the page of one rule, by id (YAML001) or name (syntax-error)."""
    from gitops_lint.report.rules import rule_page

    catalogue = _catalogue(config_path)
    found = catalogue.get(rule)
    if found is None:
        import difflib

        close = difflib.get_close_matches(rule, list(catalogue.by_key), n=3)
        fail(f"no rule {rule!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    click.echo(rule_page(found), nl=False)


@main.command("diff")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--base", "base_revision", metavar="REV",
              help="Revision to compare with (default: CI_MERGE_REQUEST_DIFF_BASE_SHA, else where HEAD left the "
                   "default branch).")
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="text",
              show_default=True, help="markdown: a merge request note; gitlab: the danger signals as a GitLab Code "
                                      "Quality report; html: one self-contained page to look at.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--flux-version", type=FLUX_VERSIONS, help="Flux release to read the manifests with.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
              help="Lowest severity of a danger signal that makes the exit code 1.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE",
              help="Also write the review in FORMAT to FILE (repeatable): one run for the note and the Code Quality "
                   "report.")
def diff_command(paths, base_revision, fmt, config_path, isolated, flux_version, fail_on, output, reports) -> None:
    """What the working tree changes in what Flux applies, against a base revision, per Flux Kustomization:
    objects added, removed and changed, with the changed fields, and the danger signals (CHG rules).
    Offline; the base is read from git."""
    import json

    from gitops_lint.config import ConfigError
    from gitops_lint.diagnostics import Severity
    from gitops_lint.diff import DiffError, danger_signals, render_text, review
    from gitops_lint.discover import DiscoveryError
    from gitops_lint.engine import LintOptions, UsageError
    from gitops_lint.report import ReportInput, renderer

    report_targets = _parse_reports(reports, DIFF_FORMATS)
    paths = list(paths) or ["."]
    try:
        config, _ = resolve_config(_resolvable(paths), config_path, isolated)
        options = LintOptions(paths=paths, config=config, cwd=Path.cwd(), flux_version=flux_version)
        change = review(options, base_revision)
        signals, internal, catalogue = danger_signals(change, options)
    except (ConfigError, UsageError, DiscoveryError, DiffError) as exc:
        fail(str(exc))
    summary = {"files": len(change.head.files), "documents": sum(len(f.documents) for f in change.head.files),
               "objects": len(change.head.model.objects),
               "errors": sum(d.severity is Severity.ERROR for d in signals),
               "warnings": sum(d.severity is Severity.WARNING for d in signals),
               "infos": sum(d.severity is Severity.INFO for d in signals)}

    def rendered(fmt: str) -> str:
        if fmt == "json":
            return json.dumps({**change.diff.to_json(), "diagnostics": [d.to_json() for d in signals]}, indent=2) + "\n"
        if fmt == "gitlab":
            return renderer("gitlab")(ReportInput(signals, summary, catalogue))
        if fmt == "markdown":
            from gitops_lint.diff import render_markdown

            return render_markdown(change.diff, signals)
        if fmt == "html":
            from gitops_lint.diff import render_html

            return render_html(change.diff, signals)
        text = renderer("text")(ReportInput(signals, summary, catalogue)) + "\n" if signals else ""
        return text + render_text(change.diff)

    for target_fmt, target in ([(fmt, output)] if output is not None else []) + report_targets:
        try:
            write_atomically(target, rendered(target_fmt))
        except OSError as exc:
            fail(f"cannot write {target}: {exc.strerror or exc}")
    if output is None:
        click.echo(rendered(fmt), nl=False)
    for message in internal:
        click.echo(f"gitops-lint: {message}", err=True)
    if internal:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if any(d.severity >= Severity.parse(fail_on) for d in signals) else EXIT_CLEAN)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path), default=Path("."))
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The cache folder (default: as `check` finds it).")
def clean(path: Path, cache_dir: Path | None) -> None:
    """Delete the cache of the repository at PATH (default: the current folder)."""
    from gitops_lint.cache import remove, resolve_dir
    from gitops_lint.discover import find_root

    cwd = Path.cwd()
    if not (cwd / path).exists():
        fail(f"path does not exist: {path}")
    root, _ = find_root([path if path.is_absolute() else cwd / path], cwd)
    directory = resolve_dir(root, cache_dir)
    try:
        removed = remove(directory if directory.is_absolute() else cwd / directory)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    click.echo(f"gitops-lint: {'removed' if removed else 'no cache at'} {directory}")


@main.command("schema")
@click.argument("what", type=click.Choice(["agent-config", "config", "flux"]))
@click.argument("kind", required=False)
@click.option("--flux-version", type=FLUX_VERSIONS, help="Flux release of the schema (default: the newest).")
@click.option("--api-version", metavar="VERSION", help="API version of the Flux kind (default: its storage version).")
def schema_command(what: str, kind: str | None, flux_version: str | None, api_version: str | None) -> None:
    """Print a JSON Schema for editors: `agent-config` (.gitlab/agents/<name>/config.yaml), `config`
    (.gitops-lint.yaml) or `flux KIND` (Kustomization, source.toolkit.fluxcd.io/v1/GitRepository, ...)."""
    import json

    from gitops_lint.schema_index import SchemaNotFound, agent_config_schema, config_file_schema, flux_editor_schema

    if (what == "flux") != (kind is not None):
        raise click.UsageError("a Flux kind is given with `flux` only: gitops-lint schema flux KIND")
    if what != "flux" and (flux_version or api_version):
        raise click.UsageError("--flux-version and --api-version apply to `flux KIND` only")
    try:
        if what == "agent-config":
            schema = agent_config_schema()
        elif what == "config":
            schema = config_file_schema()
        else:
            schema = flux_editor_schema(kind, flux_version, api_version)
    except SchemaNotFound as exc:
        fail(str(exc))
    click.echo(json.dumps(schema, indent=2, ensure_ascii=False))


def _catalogue(config_path: Path | None):
    from gitops_lint.catalogue import CatalogueError, load_catalogue
    from gitops_lint.config import ConfigError, load_config

    try:
        config = load_config(config_path) if config_path else None
        return load_catalogue(config.custom_rules if config else ())
    except (CatalogueError, ConfigError) as exc:
        fail(str(exc))


def _rule_json(rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "severity": rule.severity.label,
        "summary": rule.summary,
        "rationale": rule.rationale,
        "fix": rule.fix,
        "references": list(rule.references),
        "options": rule.options,
    }
