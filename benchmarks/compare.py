#!/usr/bin/env python3
"""gitops-lint speed figures side by side with kubeconform (the figures of the speed issue).

    python benchmarks/compare.py [--sizes 1000 10000 50000] [--corpus PATH ...] [--repeats 3]
                                 [--skip-changed] [--skip-jobs] [--json FILE]

Per repository (synthetic sizes from ../shared/bench/gen_repo.py, then each corpus folder): full
check with a cold and a warm cache against kubeconform (alternating runs; medians and the median of
the pair-by-pair ratios), --jobs 1 against --jobs 2, and --changed-since HEAD after editing 10 files.
Once per run: the start-up cost of a one-file check. Prints figures, asserts nothing.
kubeconform gets a local schema folder made from ../shared/crds/flux-2.9 (it has no network), so it
validates the Flux kinds and skips every other kind (-ignore-missing-schemas).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Measurement, compile_package, run  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
GENERATOR = SHARED / "bench" / "gen_repo.py"
CRDS = SHARED / "crds" / "flux-2.9"
PY = sys.executable
LINT = [PY, "-m", "gitops_lint", "check", "--isolated"]
FULL = [*LINT, "--format", "json", "--exit-zero"]
CHANGED = ["--changed-since", "HEAD"]
KC_GL = ("kubeconform", "gitops-lint")
ONE_FILE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 10m
  url: https://gitlab.com/acme/app.git
  ref:
    branch: main
"""


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def div(a, b):
    return a / b if a is not None and b else None


def fmt(value, spec=".2f", unit=""):
    return "-" if value is None else f"{value:{spec}}{unit}"


def summary_of(m: Measurement | None) -> dict:
    """`summary` of a gitops-lint JSON report ({} when unreadable)."""
    try:
        return json.loads(m.stdout)["summary"] if m else {}
    except (ValueError, KeyError, TypeError):
        return {}


def measured(argv, cwd=None) -> Measurement | None:
    """run(), or None (with the stderr tail printed) when the command exits other than 0 or 1."""
    argv = [str(a) for a in argv]
    try:
        m = run(argv, cwd=cwd)
    except OSError as exc:
        print(f"    ! {argv[0]}: {exc}")
        return None
    if m.returncode not in (0, 1):
        tail = "\n      ".join(m.stderr.strip().splitlines()[-8:])
        print(f"    ! exit {m.returncode}: {' '.join(argv)}\n      {tail}")
        return None
    return m


def figures(names, left: list, right: list, ratios: list) -> dict:
    """Medians of two series of measurements (None entries were failures); NAMES says what they are."""
    left, right = [m for m in left if m], [m for m in right if m]
    return {"left": names[0], "right": names[1],
            "left_s": median(m.wall for m in left), "right_s": median(m.wall for m in right),
            "ratio": median(ratios), "runs": [len(left), len(right)],
            "peak_mib": [median(m.peak_mib for m in left), median(m.peak_mib for m in right)]}


def row(label: str, f: dict, note: str = "") -> None:
    peaks = " / ".join(fmt(p, ".0f") for p in f["peak_mib"])
    print(f"  {label:28}{fmt(f['left_s'], '.2f', ' s'):>12}{fmt(f['right_s'], '.2f', ' s'):>12}"
          f"{fmt(f['ratio'], '.2f', 'x'):>8}{peaks:>12}  {note}")


def build_schemas(out: Path) -> int:
    """One JSON schema per Flux CRD version: OUT/<group>/<kind>_<version>.json. Returns how many."""
    import yaml  # the one non-stdlib import, only for the CRDs

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    count = 0
    for crd_file in sorted(CRDS.glob("*.yaml")):
        with open(crd_file, encoding="utf-8") as handle:
            for doc in yaml.load_all(handle, Loader=loader):
                if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                (out / spec["group"]).mkdir(parents=True, exist_ok=True)
                for version in spec.get("versions", []):
                    schema = (version.get("schema") or {}).get("openAPIV3Schema")
                    if schema is not None:
                        name = f"{spec['names']['kind'].lower()}_{version['name']}.json"
                        (out / spec["group"] / name).write_text(json.dumps(schema))
                        count += 1
    return count


def yaml_files(root: Path) -> list[str]:
    """Relative paths of the *.yaml / *.yml files under ROOT, .git left out."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        rel = os.path.relpath(folder, root)
        found += [os.path.normpath(os.path.join(rel, n)) for n in files if n.endswith((".yaml", ".yml"))]
    return found


def yaml_megabytes(root: Path) -> float:
    """Size of the YAML files under ROOT in MB (symlinks followed, broken ones count 0)."""
    return sum((root / rel).stat().st_size for rel in yaml_files(root) if (root / rel).exists()) / 1e6


class Bench:
    """Per-run settings, the scratch folder, and the per-repository measurements."""

    def __init__(self, args, tmp: Path, kubeconform: list[str] | None):
        self.args, self.tmp, self.kc = args, tmp, kubeconform
        self.kc_last: Measurement | None = None  # its output holds the Summary line

    def lint(self, repo: Path, cache: Path | None = None, *extra) -> Measurement | None:
        """A full check of REPO (cwd = its root) with CACHE, or with a fresh empty cache folder."""
        fresh = cache is None
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=self.tmp)) if fresh else cache
        try:
            return measured([*FULL, "--cache-dir", cache, *extra, "."], cwd=repo)
        finally:
            if fresh:
                shutil.rmtree(cache, ignore_errors=True)

    def pairs(self, names, first, second) -> dict:
        """FIRST(), SECOND() alternately, --repeats times; figures() with ratio = second / first."""
        left, right = [], []
        for _ in range(self.args.repeats):
            left.append(first())
            right.append(second())
        ratios = [b.wall / a.wall for a, b in zip(left, right) if a and b]
        return figures(names, left, right, ratios)

    def against_kc(self, repo: Path, lint) -> dict:
        if self.kc is None:
            return figures(KC_GL, [], [lint() for _ in range(self.args.repeats)], [])

        def kubeconform():
            self.kc_last = measured([*self.kc, repo]) or self.kc_last
            return self.kc_last

        return self.pairs(KC_GL, kubeconform, lint)

    def repo(self, label: str, repo: Path, scratch_copy: bool) -> dict:
        """All measurements of one repository; prints its table, returns its figures."""
        mb = yaml_megabytes(repo)
        print(f"\n== {label}  ({repo}, {mb:.1f} MB of YAML)")
        print(f"  {'':28}{'kubeconform':>12}{'gitops-lint':>12}{'ratio':>8}{'peak MiB':>12}")
        res: dict = {"label": label, "path": str(repo), "yaml_mb": mb}
        summary: dict = {}

        def cold():
            m = self.lint(repo)
            summary.update(summary_of(m))
            return m

        res["cold"] = c = self.against_kc(repo, cold)
        row("full check, cold cache", c)
        seconds = c["right_s"]
        c.update(files=summary.get("files"), documents=summary.get("documents"),
                 files_per_s=div(summary.get("files"), seconds), docs_per_s=div(summary.get("documents"), seconds),
                 mb_per_s=div(mb, seconds), findings={k: summary.get(k) for k in ("errors", "warnings", "infos")})
        print(f"  {'':28}{fmt(c['files_per_s'], ',.0f')} files/s, {fmt(c['docs_per_s'], ',.0f')} docs/s, "
              f"{fmt(c['mb_per_s'], '.2f')} MB/s  ({c['files']} files, {c['documents']} docs)")
        print(f"  {'':28}gitops-lint findings {c['findings']}")
        if self.kc:
            out = self.kc_last.stdout if self.kc_last else ""
            c["kubeconform_summary"] = next((s for s in reversed(out.splitlines()) if s.startswith("Summary:")), None)
            print(f"  {'':28}kubeconform {c['kubeconform_summary']}")

        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=self.tmp))
        if self.lint(repo, cache):  # fills the cache
            res["warm"] = self.against_kc(repo, lambda: self.lint(repo, cache))
            row("full check, warm cache", res["warm"], "(nothing changed)")
        shutil.rmtree(cache, ignore_errors=True)

        if not self.args.skip_jobs:
            res["jobs"] = j = self.pairs(("--jobs 1", "--jobs 2"), lambda: self.lint(repo, None, "--jobs", "1"),
                                         lambda: self.lint(repo, None, "--jobs", "2"))
            j["ratio"] = j["speedup"] = div(j["left_s"], j["right_s"])
            row("cold, --jobs 1 | --jobs 2", j, "(ratio: speedup, jobs1 / jobs2)")

        if not self.args.skip_changed:
            work = repo if scratch_copy else self.tmp / f"copy-{repo.name}"
            if not scratch_copy:
                shutil.copytree(repo, work, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            res["changed"] = self.changed(work, seconds)
            if work != repo:
                shutil.rmtree(work, ignore_errors=True)
        return res

    def changed(self, repo: Path, cold_s: float | None) -> dict | None:
        """--changed-since HEAD after editing 10 files: with the full check's cache restored, and with none."""
        git = ["git", "-C", str(repo), "-c", "user.email=b@x", "-c", "user.name=bench", "-c", "commit.gpgsign=false"]
        try:
            for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
                subprocess.run([*git, *cmd], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"  changed-only skipped: git failed ({exc})")
            return None
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=self.tmp))
        saved = cache.with_name(cache.name + "-saved")
        if not self.lint(repo, cache):
            shutil.rmtree(cache, ignore_errors=True)
            return None
        shutil.copytree(cache, saved)
        edited = []
        for rel in sorted(yaml_files(repo)):
            path = repo / rel
            if len(edited) < 10 and not path.is_symlink() and b"  name: " in (data := path.read_bytes()):
                path.write_bytes(data + (b"" if data.endswith(b"\n") else b"\n") + b"# changed by the benchmark\n")
                edited.append(rel)

        warm_runs: list = []

        def warm():
            shutil.rmtree(cache, ignore_errors=True)
            shutil.copytree(saved, cache)
            warm_runs.append(self.lint(repo, cache, *CHANGED))
            return warm_runs[-1]

        try:
            f = self.pairs(("warm cache", "empty cache"), warm, lambda: self.lint(repo, None, *CHANGED))
        finally:
            subprocess.run([*git, "checkout", "-q", "."], check=False)
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(saved, ignore_errors=True)
        res = {"edited_files": edited, "warm_cache_s": f["left_s"], "empty_cache_s": f["right_s"],
               "warm_vs_cold_full": div(f["left_s"], cold_s), "empty_vs_cold_full": div(f["right_s"], cold_s),
               "peak_mib": f["peak_mib"],
               "summary_files": summary_of(next((m for m in warm_runs if m), None)).get("files")}
        print(f"  changed-only, {len(edited)} files edited (ratio: to the cold full check):")
        for key, label in (("warm", "  warm cache"), ("empty", "  empty cache")):
            peak = f["peak_mib"][key == "empty"]
            row(label, {"left_s": None, "right_s": res[f"{key}_cache_s"], "ratio": res[f"{key}_vs_cold_full"],
                        "peak_mib": [None, peak]})
        return res


def one_file(tmp: Path) -> dict:
    """Start-up: a one-document check (median of 9) against `python -c pass`."""
    folder = tmp / "one"
    folder.mkdir()
    (folder / "app.yaml").write_text(ONE_FILE)
    cache = folder / "cache"
    console = Path(PY).parent / "gitops-lint"
    cases = [("python -c pass", [PY, "-c", "pass"]),
             ("python -m gitops_lint --no-cache", [*LINT, "--no-cache", "app.yaml"]),
             ("python -m gitops_lint warm cache", [*LINT, "--cache-dir", cache, "app.yaml"])]
    if console.exists():
        cases += [("gitops-lint --no-cache", [console, "check", "--isolated", "--no-cache", "app.yaml"]),
                  ("gitops-lint warm cache", [console, "check", "--isolated", "--cache-dir", cache, "app.yaml"])]
    measured(cases[2][1], cwd=folder)  # fills the cache
    print(f"\n== one-file check, median of 9{'' if console.exists() else f' ({console} not found)'}")
    print(f"  {'':34}{'ms':>8}{'x pass':>8}{'peak MiB':>10}")
    res, base = {}, None
    for label, argv in cases:
        runs = [m for m in (measured(argv, cwd=folder) for _ in range(9)) if m]
        ms = median(m.wall * 1000 for m in runs)
        base = base or ms
        res[label] = {"ms": ms, "ratio_to_python": div(ms, base), "peak_mib": median(m.peak_mib for m in runs)}
        print(f"  {label:34}{fmt(ms, '.0f'):>8}{fmt(div(ms, base), '.1f', 'x'):>8}"
              f"{fmt(res[label]['peak_mib'], '.0f'):>10}")
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--corpus", type=Path, nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-changed", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.corpus is None:
        args.corpus = [p for p in (SHARED / "corpus" / "sulibot+home-ops",) if p.is_dir()]

    kc_bin = shutil.which("kubeconform")
    versions = [measured([PY, "-m", "gitops_lint", "--version"]), measured([kc_bin, "-v"]) if kc_bin else None]
    env = {"python": platform.python_version(), "executable": PY, "cpus": os.cpu_count(),
           "load_before": os.getloadavg(), "gitops_lint": versions[0] and versions[0].stdout.strip(),
           "kubeconform": versions[1] and versions[1].stdout.strip()}
    out: dict = {"env": env, "repos": []}
    load = " ".join(f"{x:.2f}" for x in env["load_before"])
    print(f"python {env['python']} ({PY}), {env['cpus']} cpus, load average {load}")
    print(f"{env['gitops_lint']}, kubeconform {env['kubeconform'] or 'not found: its columns skipped'}")
    env["gitops_lint_pyc"] = compile_package(PY)
    # A wheel carries the rule catalogue parsed at build time; a source checkout (an editable install)
    # parses it at every start, which a one-file check without a cache shows.
    where = measured([PY, "-c", "import gitops_lint.catalogue as c, gitops_lint.data as d; "
                                "print((d.rules_dir() / c.INDEX_NAME).is_file())"])
    env["rule_index"] = bool(where and where.stdout.strip() == "True")
    if not env["rule_index"]:
        print("note: no built rule index (a source checkout or editable install): one-file figures include "
              "parsing the rule catalogue; measure a wheel install (`pip install .`) for users' figures")

    with tempfile.TemporaryDirectory(prefix="gitops-lint-bench-") as scratch:
        tmp = Path(scratch)
        kc = None
        if kc_bin:
            try:
                n = build_schemas(tmp / "schemas")
                location = f"{tmp}/schemas/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json"
                kc = [kc_bin, "-n", "2", "-summary", "-ignore-missing-schemas", "-schema-location", location]
                print(f"kubeconform: {n} Flux schemas from {CRDS}")
            except (ImportError, OSError, KeyError) as exc:
                print(f"kubeconform skipped: no schemas ({exc!r})")
        bench = Bench(args, tmp, kc)
        out["one_file"] = one_file(tmp)
        if args.sizes and not GENERATOR.exists():
            print(f"\n({GENERATOR} not found: synthetic sizes skipped)")
        for size in args.sizes if GENERATOR.exists() else []:
            repo = tmp / f"synthetic-{size}"
            subprocess.run([PY, GENERATOR, repo, "--docs", str(size)], check=True, capture_output=True)
            out["repos"].append(bench.repo(f"synthetic {size} docs", repo, scratch_copy=True))
            shutil.rmtree(repo, ignore_errors=True)
        for corpus in args.corpus:
            if corpus.is_dir():
                out["repos"].append(bench.repo(f"corpus {corpus.name}", corpus.resolve(), scratch_copy=False))
            else:
                print(f"\n({corpus} is not a folder: skipped)")

    rates = [(r["label"].split()[1], r["cold"]["docs_per_s"]) for r in out["repos"]
             if r["label"].startswith("synthetic") and r["cold"]["docs_per_s"]]
    if rates:
        values = [v for _, v in rates]
        out["docs_per_s_max_over_min"] = max(values) / min(values)
        print("\ncold docs/s by size: " + ", ".join(f"{size}: {v:,.0f}" for size, v in rates)
              + f"  (max/min {out['docs_per_s_max_over_min']:.2f})")
    env["load_after"] = os.getloadavg()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in env['load_after'])}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
