from gitops_lint.cli import entry

entry()
