"""The page of one rule, the same text `explain` prints and the docs show."""

from __future__ import annotations

from gitops_lint.catalogue import Rule


def rule_page(rule: Rule) -> str:
    out = [f"# {rule.name} ({rule.id})", "", f"Severity: {rule.severity.label}", "", "## What it does", "",
           rule.summary, "", "## Why is this bad?", "", rule.rationale, "", "## How to fix", "", rule.fix, ""]
    if rule.autofix != "none":
        how = ("`gitops-lint check --fix`" if rule.autofix == "safe"
               else "`gitops-lint check --fix --unsafe-fixes` (the fix changes what the cluster gets)")
        out += [f"Fix: {rule.autofix}: {how} makes the repair described above where it applies; every byte it "
                "does not repair stays as it was.", ""]
    bad = [e for e in rule.examples if e.kind == "bad"]
    good = [e for e in rule.examples if e.kind == "good"]
    for title, examples in (("## Example", bad), ("## Use instead", good)):
        shown = [e for e in examples if isinstance(e.content, str)]
        if not shown:
            continue
        out += [title, ""]
        for example in shown[:2]:
            out += [f"`{example.path}`:", "", "```yaml", example.content.rstrip("\n"), "```", ""]
    if rule.options:
        out += ["## Options", ""]
        out += [f"- `{key}` (default: `{value!r}`)" for key, value in sorted(rule.options.items())]
        out.append("")
    if rule.references:
        out += ["## References", ""]
        out += [f"- {ref}" for ref in rule.references]
        out.append("")
    return "\n".join(out)
