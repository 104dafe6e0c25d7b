"""Intervals and timeouts, judged by how Flux and a GitLab instance really behave."""

from __future__ import annotations

from typing import Iterator
from urllib.parse import urlsplit

from gitops_lint.checks import Context, at
from gitops_lint.checks.flux import gitlab_hosts
from gitops_lint.diagnostics import Finding
from gitops_lint.durations import DurationError, format_go_duration, parse_flux_duration
from gitops_lint.model import is_kind
from gitops_lint.model.kubernetes import KubernetesObject


def interval_ns(text: object) -> int | None:
    """Nanoseconds of a Flux duration; None when absent, substituted or invalid (the schema rules say so)."""
    if not isinstance(text, str) or "${" in text:
        return None
    try:
        return parse_flux_duration(text)
    except DurationError:
        return None


def duration_option(value: object, name: str) -> int:
    """A duration given as a rule option, in nanoseconds; a bad one is a configuration error."""
    try:
        return parse_flux_duration(str(value))
    except DurationError as exc:
        raise ValueError(f"rule option {name}: {exc}") from None


def _on_gitlab(ctx: Context, url: str | None) -> bool:
    if not url or "${" in url:
        return False
    try:
        host = urlsplit(url if "://" in url else f"//{url}").hostname or ""
    except ValueError:
        return False
    return host in gitlab_hosts(ctx) or "gitlab" in host.split(".")[0:2] or host.startswith("gitlab.")


def source_interval_too_short(ctx: Context, min_interval: str = "1m") -> Iterator[Finding]:
    minimum = duration_option(min_interval, "min_interval")
    for source, written in (*ctx.as_applied("GitRepository"), *ctx.as_applied("OCIRepository")):
        interval = interval_ns(source.spec.interval)
        if interval is None or interval >= minimum or not _on_gitlab(ctx, source.spec.url):
            continue
        yield at(written, ("spec", "interval"), (
            f"interval {source.spec.interval} polls the GitLab instance every {format_go_duration(interval)}: every "
            f"source does, so this adds load for nothing; use at least {min_interval} and a Receiver (or the GitLab "
            "agent's Flux module) for changes to arrive at once" + ctx.applied_note(source, written, ("spec", "interval"))))


def _covered_by_receiver(ctx: Context) -> set[int]:
    """Objects a Receiver in the repository wakes up (by name, or by a wildcard in its namespace), as written."""
    covered: set[int] = set()
    graph, written = ctx.graph, ctx.model.written
    for ref in graph.references:
        if is_kind(ref.source, "Receiver") and ref.spec.relation == "resources":
            covered.update(id(written(t)) for t in ref.targets)  # wildcards are resolved by the graph too
    return covered


def interval_too_long(ctx: Context, max_interval: str = "24h") -> Iterator[Finding]:
    maximum = duration_option(max_interval, "max_interval")
    covered = _covered_by_receiver(ctx)
    objects: list[tuple[KubernetesObject, KubernetesObject]] = [
        *ctx.as_applied("GitRepository"), *ctx.as_applied("OCIRepository"), *ctx.as_applied("Kustomization"),
        *ctx.as_applied("HelmRelease")]
    for obj, written in objects:
        interval = interval_ns(obj.spec.interval)
        if interval is None or interval <= maximum:
            continue
        receiver = ("; a Receiver wakes it on push, but push events are best-effort and the interval is the safety "
                    "net" if id(written) in covered else "; no Receiver in this repository wakes it")
        yield at(written, ("spec", "interval"), (
            f"interval {obj.spec.interval}: drift and missed changes are corrected only that often"
            f"{receiver}; keep it at most {max_interval}" + ctx.applied_note(obj, written, ("spec", "interval"))))


def timeout_exceeds_interval(ctx: Context) -> Iterator[Finding]:
    """A Kustomization whose `retryInterval` is longer than its `interval`: failures are retried late.

    A `timeout` longer than the interval is not judged: a controller never runs
    two reconciles of one object at once and schedules the next one an
    interval after the current one ends, so a long timeout (common for slow
    Helm installs and health checks) delays nothing and queues nothing.
    """
    for ks, written in ctx.as_applied("Kustomization"):
        interval = interval_ns(ks.spec.interval)
        retry = interval_ns(ks.spec.retryInterval)
        if interval is None or retry is None or retry <= interval:
            continue
        yield at(written, ("spec", "retryInterval"), (
            f"retryInterval {ks.spec.retryInterval} is longer than interval {ks.spec.interval}: after a failure "
            "Flux waits longer than between two successful reconciles, so a failed apply is retried later than a "
            "healthy one is re-checked; keep retryInterval at most the interval (it defaults to the interval)"
            + ctx.applied_note(ks, written, ("spec", "retryInterval"))))
