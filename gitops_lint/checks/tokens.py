"""GitLab tokens committed in plain text."""

from __future__ import annotations

from typing import Iterator

from gitops_lint.checks import Context
from gitops_lint.diagnostics import Finding, Span
from gitops_lint.model.kubernetes import Secret
from gitops_lint.secrets import decode_base64, find_tokens
from gitops_lint.yaml.edits import line_starts, position


def plaintext_tokens(ctx: Context) -> Iterator[Finding]:
    """Tokens anywhere in a file's text (values, comments, broken YAML), and base64-encoded in Secret `data`.

    SOPS documents are read too: ciphertext never looks like a token, and `encrypted_regex` leaves
    some values in plain text.
    """
    for source in ctx.judged_files():
        if not source.text:
            continue
        starts: list[int] | None = None
        for token in find_tokens(source.text):
            if starts is None:
                starts = line_starts(source.text)  # lines as the code frames count them (`SourceFile.lines`)
            line, column = position(starts, token.start)
            yield Finding(
                f"GitLab {token.kind} in plain text ({token.redacted}): revoke it now, then store it "
                "SOPS-encrypted or in an external secret store",
                source.rel,
                Span(line, column, line, column + (token.end - token.start)),
                anchor=f"token:{token.prefix}",  # the engine numbers repeats; line numbers would break the fingerprint
            )
    for secret in ctx.judged(Secret):
        for key, value in secret.data.items():
            decoded = decode_base64(value) if isinstance(value, str) else None
            token = next(find_tokens(decoded), None) if decoded else None
            if token is not None:
                yield Finding(
                    f"Secret data key {key!r} holds a base64-encoded GitLab {token.kind} ({token.redacted}): base64 "
                    "is no encryption; revoke the token and commit the Secret SOPS-encrypted",
                    secret.path,
                    secret.locate(("data", key)),
                    object=secret.ref,
                    anchor=f"data.{key}",
                )

