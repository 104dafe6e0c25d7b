"""gitops-lint: lint and compile GitLab agent configs and Flux manifests."""

__version__ = "0.1.0"
