from gitops_lint.cli import main

main()
