"""No output ever shows a token: plant tokens everywhere, grep every format."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from gitops_lint.report import FORMATS
from gitops_lint.secrets import find_tokens, redact
from tests.conftest import write_tree
from tests.test_cli import run

# Fake, but shaped exactly like real tokens (high entropy, right lengths).
PAT = "glpat-Zq8Rk2Lm5Np7Tv9Wx3Yb"
DEPLOY = "gldt-Hc4Jd6Kf8Mg1Ph3Qj5Rk"
AGENT = "glagent-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8K"[:50]
ROUTABLE = "glpat-Aq1Bw2Ce3Dr4Ft5Gy6Hu7Ji8Ko9Lp0Mz1N.01.0a1b2c3d4"
INSTANCE_PREFIXED = "SIE-glpat-Mn4Bv6Cx8Zl1Kj3Hg5Fd"  # a self-managed instance's prefix comes first
TOKENS = [PAT, DEPLOY, AGENT, ROUTABLE, INSTANCE_PREFIXED]

FILES = {
    "secret.yaml": f"""apiVersion: v1
kind: Secret
metadata:
  name: git-auth
  namespace: flux-system
stringData:
  password: {PAT}
  password: {DEPLOY}
data:
  token: {base64.b64encode(AGENT.encode()).decode()}
""",
    "values.yaml": f"""# old token: {ROUTABLE}
# url: https://oauth2:{INSTANCE_PREFIXED}@gitlab.example.com/a/b.git
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  prune: {PAT}
""",
    "broken.yaml": f"token: [{DEPLOY}\n",
}


def test_planted_tokens_are_found() -> None:
    for token in TOKENS:
        assert [m.prefix for m in find_tokens(f"x {token} y")], token
    assert list(find_tokens("glpat-xxxxxxxxxxxxxxxxxxxx")) == []  # a placeholder
    assert list(find_tokens("glrt-REPLACE_ME_WITH_TOKEN")) == []  # one in capitals


def test_redact_plain_and_base64() -> None:
    for token in TOKENS:
        text = redact(f"a {token} b {base64.b64encode(token.encode()).decode()} c")
        assert token not in text and "redacted" in text
        assert base64.b64encode(token.encode()).decode() not in text
    # Encoded without padding, after bytes that are no text, or twice (a dockerconfigjson's `auth`).
    auth = base64.b64encode(f"user:{PAT}".encode()).decode()
    for raw in (PAT.encode(), b"\xff\xfe" + PAT.encode(), f'{{"auths": {{"r": {{"auth": "{auth}"}}}}}}'.encode()):
        encoded = base64.b64encode(raw).decode().rstrip("=")
        assert redact(f"np: {encoded}") == f"np: [base64 of glpat-[redacted, {len(PAT)} characters]]", raw


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_contains_a_token(tmp_path: Path, fmt: str) -> None:
    write_tree(tmp_path, FILES)
    out = run(["check", "--format", fmt, "--statistics", "--report", "json=r.json", "--write-baseline" if fmt == "json"
               else "--color=always", *(["b.json"] if fmt == "json" else []), "."], tmp_path)
    outputs = [out.stdout, out.stderr]
    for name in ("r.json", "b.json"):
        if (tmp_path / name).exists():
            outputs.append((tmp_path / name).read_text())
    everything = "\n".join(outputs)
    for token in TOKENS:
        secret_part = token.split("-", 1 + token.startswith("SIE-"))[-1]
        assert secret_part[:12] not in everything, (fmt, token)
        encoded = base64.b64encode(token.encode()).decode()
        assert encoded[8:30] not in everything, (fmt, token)
    if fmt in ("text", "json"):
        assert "TOK001" in everything and re.search(r"glpat-\[redacted, \d+ characters\]", everything)


SECRET_FILES = {
    "secret.yaml": """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
stringData:
  port: 54321
  password: hunter2-very-secret  # gitops-lint: ignore[NOPE001]
  pin: [4711, 0815]
""",
    "kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [secret.yaml]
""",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_secret_value(tmp_path: Path, fmt: str) -> None:
    """Findings on a Secret's values (and code frames of lines holding them) mask the values."""
    write_tree(tmp_path, SECRET_FILES)
    out = run(["check", "--format", fmt, "."], tmp_path)
    assert out.returncode == 1, out.stderr
    for value in ("54321", "hunter2", "4711", "0815"):
        assert value not in out.stdout + out.stderr, (fmt, value)
    if fmt == "text":
        assert 'stringData.port: *** is not a string (quote it: "***")' in out.stdout
        # Same-length masking keeps the underline under the value.
        assert " 7 |   port: *****\n   |         ^^^^^\n" in out.stdout
        assert "password: *******************  # gitops-lint: ignore[NOPE001]" in out.stdout


def test_secret_values_found_in_secrets_patches_and_generators() -> None:
    from gitops_lint.secrets import SECTION, mask_lines, mask_message, mask_values, secret_values
    from gitops_lint.yaml.loader import load_text

    text = """\
kind: Secret
metadata: {name: a}
data:
  cert: |
    line-one
    line-two
---
secretGenerator:
  - name: gen
    literals: [user=admin, password=s3cret]
---
kind: ConfigMap
data: {plain: visible}
---
kind: Secret
sops: {mac: x, encrypted_regex: ^password$}
data: {enc: "ENC[AES256_GCM,data:abc]", user: YWRtaW4=}
---
kind: List
items:
  - kind: Secret
    stringData: {nested: inList}
---
patches:
  - patch: |-
      kind: Secret
      stringData: {pin: inPatch}
  - target: {kind: Secret, name: x}
    patch: '[{"op": "add", "path": "/stringData/x", "value": "inJsonPatch"}]'
"""
    source = load_text(text)
    values = [(span, v) for span, v in secret_values(source.documents) if v is not SECTION]
    # A SOPS Secret's values too (encrypted_regex leaves some in plain text), and a Secret in a List.
    assert [v for _, v in values] == ["line-one\nline-two\n", "user=admin", "password=s3cret",
                                      "ENC[AES256_GCM,data:abc]", "YWRtaW4=", "inList",
                                      "kind: Secret\nstringData: {pin: inPatch}",
                                      '[{"op": "add", "path": "/stringData/x", "value": "inJsonPatch"}]']
    masked = mask_lines(source.lines, 1, [s for s, _ in values])
    assert masked[3:6] == ("  cert: *", "    ********", "    ********")
    assert masked[9] == "    literals: [**********, ***************]"
    assert "visible" in masked[12] and "YWRtaW4=" not in masked[16] and "inList" not in masked[21]
    assert masked[24:27] == ("  - patch: **", "      ***** ******", "      *********** ***** ********")
    assert mask_message('literals[1]: "password=s3cret" has no key', ["password=s3cret"]) == (
        'literals[1]: "***" has no key')
    # Whole words only: a short value does not eat into other text.
    assert mask_message("port 10 of x1: 1 is not a string", [1]) == "port 10 of x1: *** is not a string"
    # Line by line, for files that did not parse or whose every value is secret: keys and comments stay.
    assert mask_values("  - password: hunter2  # rotated") == "  - password: *******  # rotated"
    assert mask_values("API_KEY=abc123") == "API_KEY=******"
    assert mask_values("    -----BEGIN KEY-----") == "    ********** ********"
    # A `#` inside quotes is part of the value; a block scalar's line has no comment; an env file none at all.
    assert mask_values('  q: "abc #hidden" # note') == '  q: **** ******** # note'
    assert mask_values("  q: 'it''s #hidden' # note") == "  q: ****** ******** # note"
    assert mask_values("    line-two # hidden") == "    ******** * ******"
    assert mask_values("KEY=abc #hidden", yaml=False) == "KEY=*** *******"


SECRET_SHAPES = {
    # Not parsed: a value YAML cannot read. The frame still shows where, without the value.
    "syntax/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData:\n  password: @dm1nS3cret\n",
    # Sections of the wrong shape, a key given twice (its first position is lost to the data), a flow mapping.
    "string/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: \"password=hunter06\"\n",
    "list/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData:\n  - password: hunter05\n",
    "twice/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData:\n  1: 98765416\n  true: 9876541\n",
    "flow/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {pin: 4242, x: y}\n",
    # What a secretGenerator reads is secret through and through.
    "gen/kustomization.yaml": "secretGenerator:\n  - name: db\n    files: [db.yaml]\n",
    "gen/db.yaml": "password: hunter-old\npassword: hunter-new\n",
    # SOPS metadata does not make plain values ciphertext (encrypted_regex, or an empty block).
    "sops/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: hunter-sops1\n"
                        "  password: hunter-sops2\nsops: {}\n",
    # Secrets inside other objects: a List's items, a ResourceSet's resources.
    "inlist/list.yaml": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n"
                        "  stringData:\n    password: hunter-list1\n    password: hunter-list2\n",
    "rset/set.yaml": "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata: {name: r}\nspec:\n"
                     "  resources:\n    - apiVersion: v1\n      kind: Secret\n      metadata: {name: s}\n"
                     "      stringData:\n        token: hunter-set1\n        token: hunter-set2\n",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_secret_values_of_every_shape_are_masked(tmp_path: Path, fmt: str) -> None:
    write_tree(tmp_path, SECRET_SHAPES)
    out = run(["check", "--format", fmt, "."], tmp_path)
    assert out.returncode == 1, out.stderr
    for value in ("dm1nS3cret", "hunter06", "hunter05", "98765416", "9876541", "4242", "hunter-old", "hunter-new",
                  "hunter-sops", "hunter-list", "hunter-set"):
        assert value not in out.stdout + out.stderr, (fmt, value)
    if fmt == "text":
        assert " 5 |   password: ***********\n" in out.stdout  # the syntax error's frame
        assert "stringData: {pin: ****, x: *}" in out.stdout  # keys of a flow mapping stay readable


SUBSTITUTED_SECRET = {
    "clusters/prod/flux.yaml": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substituteFrom: [{kind: Secret, name: vars}, {kind: ConfigMap, name: plain}]
---
apiVersion: v1
kind: Secret
metadata: {name: vars, namespace: flux-system}
stringData: {PASSWORD: Hunter2CanaryZq9, GLUED: GluedCanary7}
data: {ENCODED: RW5jb2RlZENhbmFyeTc3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, namespace: flux-system}
data: {PLAIN_URL: not-a-secret}
""",
    # One GitRepository per variable: its URL is what Flux substitutes.
    "apps/repo.yaml": "---\n".join(
        f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {{name: {name}, namespace: flux-system}}\n"
        f"spec:\n  interval: 1m\n  url: {url}\n"
        for name, url in (("g", "${PASSWORD}"), ("plain", "${PLAIN_URL}"), ("h", "${ENCODED}"),
                          ("glued", "notaurl-${GLUED}"))),
    # kustomize `replacements` copy a Secret's value into another object as well.
    "apps/kustomization.yaml": """\
resources: [repo.yaml, copied.yaml]
replacements:
  - source: {kind: Secret, name: copied, fieldPath: stringData.url}
    targets: [{select: {kind: GitRepository, name: copied}, fieldPaths: [spec.url]}]
  - source: {kind: Secret, name: copied, fieldPath: stringData.creds, options: {delimiter: ":", index: 1}}
    targets: [{select: {kind: GitRepository, name: part}, fieldPaths: [spec.url]}]
""",
    "apps/copied.yaml": """\
apiVersion: v1
kind: Secret
metadata: {name: copied, namespace: flux-system}
stringData: {url: notaurl-ReplacedCanary42, creds: "user:DelimitedCanary3"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: copied, namespace: flux-system}
spec: {interval: 1m, url: "https://example.com/x.git"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: part, namespace: flux-system}
spec: {interval: 1m, url: "https://example.com/y.git"}
""",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_value_substituted_from_a_secret_is_masked_in_findings_on_the_copy(tmp_path: Path, fmt: str) -> None:
    """Flux's copy of an object holds what postBuild substituted: a Secret's value there stays hidden
    (a ConfigMap's does not), glued to other text or copied by a kustomize replacement, while the finding
    about it is still reported. `graph` and `diff` never draw it either."""
    write_tree(tmp_path, SUBSTITUTED_SECRET)
    out = run(["check", "--format", fmt, "."], tmp_path)
    assert out.returncode == 1, out.stderr
    everything = out.stdout + out.stderr
    for canary in ("Hunter2CanaryZq9", "EncodedCanary77", "GluedCanary7", "ReplacedCanary42", "DelimitedCanary3"):
        assert canary.lower() not in everything.lower(), (fmt, canary)
    if fmt == "text":
        assert everything.count('spec.url: "***" is not an accepted URL') == 4, everything
        assert 'spec.url: "notaurl-***" is not an accepted URL' in everything
        assert 'spec.url: "not-a-secret" is not an accepted URL' in everything  # a ConfigMap's value is no secret
    if fmt == "text":
        for graph_format in ("tree", "mermaid", "dot", "json", "html"):
            drawn = run(["graph", "--format", graph_format, "."], tmp_path)
            assert drawn.returncode == 0, drawn.stderr
            assert "canary" not in (drawn.stdout + drawn.stderr).lower(), graph_format
            if graph_format == "json":
                json.loads(drawn.stdout)  # masked in the names, not in the rendered text: still JSON


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_token_is_placed_on_the_line_the_code_frame_counts(tmp_path: Path, newline: str) -> None:
    """Old Mac line ends (`\\r`) are line breaks to YAML and to the code frame: the token's line is the same."""
    (tmp_path / "cm.yaml").write_bytes(newline.join(["apiVersion: v1", "kind: ConfigMap", "metadata:",
                                                     "  name: app", "data:", f"  token: {PAT}", ""]).encode())
    out = run(["check", "--format", "json", "--select", "TOK001", "cm.yaml"], tmp_path)
    import json

    found = json.loads(out.stdout)["diagnostics"]
    assert [(d["rule"], d["line"], d["column"]) for d in found] == [("TOK001", 6, 10)]


def test_values_secrets_hand_on_are_masked_without_eating_into_other_text() -> None:
    from gitops_lint.secrets import SecretMasker

    long = "LongSecretValue9" + "x" * 60
    masked = SecretMasker({"admin", "1", "true", long, "GluedCanary7"})
    assert masked('namespace administration, image: busybox:1.2, user "admin", enabled: true') == (
        'namespace administration, image: busybox:1.2, user "***", enabled: ***')
    assert masked("url: notaurl-gluedcanary7/x") == "url: notaurl-***/x"  # long ones anywhere, any case
    # A message cuts a long quoted value short: the start of the secret it shows goes too.
    assert masked(f'spec.url: "notaurl-{long[:40]}..." is not a URL') == 'spec.url: "notaurl-***..." is not a URL'
    assert masked("nothing here") == "nothing here" and not SecretMasker(set())
