"""CEL rules (`x-kubernetes-validations`): every Flux rule, CEL's semantics, substitutions, robustness."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_lint import cel
from gitops_lint.cel import ERROR, FAILED, PASSED, UNKNOWN, UNSUPPORTED, apply_defaults, compile_rule, evaluate

from .conftest import shared_path

# Schema defaults the API server fills in before it validates (only the ones the rules read).
BUCKET = {"properties": {"provider": {"type": "string", "default": "generic"}}}
IMAGE_POLICY = {"properties": {"digestReflectionPolicy": {"type": "string", "default": "Never"}}}
CHART = {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}
CHART_REF = {"kind": "OCIRepository", "name": "podinfo"}
STS_AWS = {"provider": "aws", "endpoint": "https://sts.amazonaws.com"}
STS_LDAP = {"provider": "ldap", "endpoint": "https://minio.example.com"}
REPO = [{"kind": "GitRepository", "name": "flux-system"}]
OIDC = [{"issuerURL": "https://gitlab.com"}]

#: Every distinct rule of the Flux 2.3-2.9 CRDs: (rule, node schema for defaults, satisfying values,
#: violating values). Values are the object's value at the node that carries the rule.
FLUX_RULES: list[tuple[str, dict | None, list, list]] = [
    # HelmRelease v2beta2/v2 spec
    ("(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))", None,
     [{"interval": "10m", "chart": CHART}, {"interval": "10m", "chartRef": CHART_REF}],
     [{"interval": "10m", "chart": CHART, "chartRef": CHART_REF}, {"interval": "10m"}]),
    # HelmRelease v2 spec.install.strategy
    ("!has(self.retryInterval) || self.name != 'RemediateOnFailure'", None,
     [{"name": "RetryOnFailure", "retryInterval": "5m"}, {"name": "RemediateOnFailure"}],
     [{"name": "RemediateOnFailure", "retryInterval": "5m"}]),
    # HelmRelease v2 spec.upgrade.strategy
    ("!has(self.retryInterval) || self.name == 'RetryOnFailure'", None,
     [{"name": "RetryOnFailure", "retryInterval": "5m"}, {"name": "RemediateOnFailure"}],
     [{"name": "RemediateOnFailure", "retryInterval": "5m"}]),
    # HelmRelease and Kustomization spec.kubeConfig
    ("has(self.configMapRef) || has(self.secretRef)", None,
     [{"secretRef": {"name": "kubeconfig"}}, {"configMapRef": {"name": "kubeconfig"}}],
     [{}, {"secretRef": None}]),
    ("!has(self.configMapRef) || !has(self.secretRef)", None,
     [{"secretRef": {"name": "kubeconfig"}}, {}],
     [{"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}}]),
    # Bucket spec
    ("self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)", BUCKET,
     [{"provider": "aws", "sts": STS_AWS}, {"provider": "gcp"}, {"sts": STS_LDAP}],
     [{"provider": "gcp", "sts": STS_AWS}, {"provider": "azure", "sts": STS_LDAP}]),
    ("self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'", BUCKET,
     [{"provider": "aws", "sts": STS_AWS}, {"provider": "aws"}, {"provider": "generic", "sts": STS_LDAP}],
     [{"provider": "aws", "sts": STS_LDAP}]),
    ("self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'", BUCKET,
     [{"provider": "generic", "sts": STS_LDAP}, {"provider": "aws", "sts": STS_AWS}],
     [{"provider": "generic", "sts": STS_AWS}, {"sts": STS_AWS}]),
    ("!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)", BUCKET,
     [{"provider": "aws", "sts": STS_AWS}, {"sts": dict(STS_LDAP, secretRef={"name": "s"})}, {}],
     [{"provider": "aws", "sts": dict(STS_AWS, secretRef={"name": "s"})}]),
    ("!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)", BUCKET,
     [{"provider": "aws", "sts": STS_AWS}, {"sts": dict(STS_LDAP, certSecretRef={"name": "ca"})}],
     [{"provider": "aws", "sts": dict(STS_AWS, certSecretRef={"name": "ca"})}]),
    ("self.provider != 'generic' || !has(self.serviceAccountName)", BUCKET,
     [{"provider": "aws", "serviceAccountName": "sa"}, {}],
     [{"serviceAccountName": "sa"}, {"provider": "generic", "serviceAccountName": "sa"}]),
    ("!has(self.secretRef) || !has(self.serviceAccountName)", BUCKET,
     [{"provider": "aws", "serviceAccountName": "sa"}, {"secretRef": {"name": "creds"}}],
     [{"provider": "aws", "serviceAccountName": "sa", "secretRef": {"name": "creds"}}]),
    # ImagePolicy v1beta2/v1 spec
    ("!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",
     IMAGE_POLICY,
     [{"policy": {}}, {"digestReflectionPolicy": "Always", "interval": "5m"}],
     [{"interval": "5m"}, {"digestReflectionPolicy": "IfNotPresent", "interval": "5m"}]),
    ("has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",
     IMAGE_POLICY,
     [{"policy": {}}, {"digestReflectionPolicy": "Always", "interval": "5m"}],
     [{"digestReflectionPolicy": "Always"}]),
    # Provider v1beta3 spec
    ("self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' "
     "|| self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)", None,
     [{"type": "gitlab", "commitStatusExpr": "event.metadata.app"}, {"type": "slack"}],
     [{"type": "slack", "commitStatusExpr": "event.metadata.app"}]),
    # GitRepository v1 spec (2.7-2.8, then 2.9)
    ("!has(self.serviceAccountName) || (has(self.provider) && self.provider == 'azure')", None,
     [{"provider": "azure", "serviceAccountName": "sa"}, {"url": "https://github.com/o/r"}],
     [{"serviceAccountName": "sa"}, {"provider": "github", "serviceAccountName": "sa"}]),
    ("!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
     None,
     [{"provider": "aws", "serviceAccountName": "sa"}, {"provider": "azure", "serviceAccountName": "sa"}, {}],
     [{"serviceAccountName": "sa"}, {"provider": "generic", "serviceAccountName": "sa"}]),
    # HelmChart v1 spec
    ("!has(self.verify) || self.sourceRef.kind == 'HelmRepository'", None,
     [{"sourceRef": {"kind": "HelmRepository", "name": "p"}, "verify": {"provider": "cosign"}},
      {"sourceRef": {"kind": "GitRepository", "name": "g"}}],
     [{"sourceRef": {"kind": "GitRepository", "name": "g"}, "verify": {"provider": "cosign"}}]),
    # Receiver v1 spec (2.9)
    ("self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)", None,
     [{"type": "generic-oidc", "resources": REPO, "oidcProviders": OIDC}, {"type": "github", "resources": REPO}],
     [{"type": "generic-oidc", "resources": REPO, "oidcProviders": []}, {"type": "generic-oidc", "resources": REPO}]),
    ("self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0", None,
     [{"type": "github", "oidcProviders": []}, {"type": "generic-oidc", "oidcProviders": OIDC}, {"type": "gitlab"}],
     [{"type": "github", "oidcProviders": OIDC}]),
    ("self.type != 'generic-oidc' || !has(self.secretRef)", None,
     [{"type": "generic-oidc", "oidcProviders": OIDC}, {"type": "github", "secretRef": {"name": "t"}}],
     [{"type": "generic-oidc", "oidcProviders": OIDC, "secretRef": {"name": "t"}}]),
    ("self.type == 'generic-oidc' || has(self.secretRef)", None,
     [{"type": "github", "secretRef": {"name": "t"}}, {"type": "generic-oidc"}],
     [{"type": "github"}, {"type": "gitlab", "secretRef": None}]),
]

RULE_TEXTS = [rule for rule, *_ in FLUX_RULES]


def run(rule: str, value, *, schema: dict | None = None, **entry) -> cel.CelResult:
    return evaluate(compile_rule({"rule": rule, **entry}), value, schema=schema)


def status(rule: str, value, **kw) -> str:
    return run(rule, value, **kw).status


# --------------------------------------------------------------------------- every Flux rule


@pytest.mark.parametrize("rule,schema,good,bad", FLUX_RULES, ids=[r[:60] for r in RULE_TEXTS])
def test_flux_rule_passes_on_satisfying_values(rule, schema, good, bad):
    for value in good:
        result = run(rule, value, schema=schema)
        assert result.status == PASSED, (value, result)


@pytest.mark.parametrize("rule,schema,good,bad", FLUX_RULES, ids=[r[:60] for r in RULE_TEXTS])
def test_flux_rule_fails_on_violating_values(rule, schema, good, bad):
    for value in bad:
        result = run(rule, value, schema=schema, message="the rule's message")
        assert result.status == FAILED, (value, result)
        assert result.message == "the rule's message"


def test_table_holds_every_rule_of_the_flux_crds():
    yaml = pytest.importorskip("yaml")
    root = shared_path("crds")
    found: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            for entry in node.get("x-kubernetes-validations") or []:
                found.setdefault(entry["rule"], entry)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(root.glob("flux-2.*/*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            walk(doc)
    assert found, "no rules in the CRDs"
    assert sorted(set(found) - set(RULE_TEXTS)) == []
    for rule, entry in found.items():
        compiled = compile_rule(entry)
        assert compiled.unsupported is None, (rule, compiled.unsupported)
        assert compiled.message == entry.get("message")


def test_defaults_decide_bucket_rules():
    """Bucket.spec.provider defaults to generic: a Bucket that never names a provider is judged as generic."""
    rule = "self.provider != 'generic' || !has(self.serviceAccountName)"
    assert status(rule, {"serviceAccountName": "sa"}, schema=BUCKET) == FAILED
    assert status(rule, {"serviceAccountName": "sa"}) == ERROR  # without the schema: no such key
    assert apply_defaults(BUCKET, {"serviceAccountName": "sa"}) == {"serviceAccountName": "sa",
                                                                    "provider": "generic"}


def test_apply_defaults_prunes_nulls_and_does_not_mutate():
    schema = {"properties": {"a": {"type": "string", "default": "x"}, "b": {"type": "object", "properties": {
        "c": {"type": "integer", "default": 3}}}, "n": {"type": "string", "nullable": True}},
        "required": []}
    value = {"a": None, "b": {}, "n": None, "z": None}
    assert apply_defaults(schema, value) == {"a": "x", "b": {"c": 3}, "n": None}
    assert value == {"a": None, "b": {}, "n": None, "z": None}
    items = {"items": {"properties": {"k": {"default": "d"}}}}
    assert apply_defaults(items, [{}, {"k": "e"}]) == [{"k": "d"}, {"k": "e"}]



def _defaults_as_specified(schema, value):
    """Structural defaulting spelled out plainly: a fresh copy of every map and list."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if item is None and not (isinstance(sub, dict) and sub.get("nullable")):
                continue
            out[key] = _defaults_as_specified(sub, item) if isinstance(sub, dict) else item
        for key, sub in properties.items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = _defaults_as_specified(sub, json.loads(json.dumps(sub["default"])))
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_defaults_as_specified(schema["items"], item) for item in value]
    return value


_KEYS = st.sampled_from(["a", "b", "c"])
_SCHEMAS = st.recursive(
    st.fixed_dictionaries({}, optional={"default": st.one_of(st.none(), st.integers(), st.just({"a": 1})),
                                        "nullable": st.booleans()}),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"properties": st.dictionaries(_KEYS, inner, max_size=3)},
                              optional={"additionalProperties": inner, "default": st.just({})}),
        st.fixed_dictionaries({"items": inner})),
    max_leaves=8)
_VALUES = st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=2)),
                       lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)),
                       max_leaves=10)


@given(_SCHEMAS, _VALUES)
def test_apply_defaults_equals_structural_defaulting_and_never_mutates(schema, value):
    before = json.dumps(value, sort_keys=True)
    assert apply_defaults(schema, value) == _defaults_as_specified(schema, value)
    assert json.dumps(value, sort_keys=True) == before

# --------------------------------------------------------------------------- transition rules


@pytest.mark.parametrize("rule", ["self == oldSelf", "!has(oldSelf.x) || self.x == oldSelf.x",
                                  "oldSelf.map(x, x) == self"])
def test_transition_rules_are_skipped(rule):
    compiled = compile_rule({"rule": rule, "message": "immutable"})
    assert compiled.is_transition
    result = evaluate(compiled, {"x": 1})
    assert result.status == UNSUPPORTED and "transition" in result.message


def test_old_self_in_a_string_is_no_transition():
    compiled = compile_rule({"rule": "self.x != 'oldSelf'"})
    assert not compiled.is_transition
    assert evaluate(compiled, {"x": "a"}).status == PASSED


# --------------------------------------------------------------------------- outside the subset


@pytest.mark.parametrize("rule", [
    "self.map(x, x) == []", "self.filter(x, true) == []", "{'a': 1} == self", "b'x' == self", "1u == self",
    "int(self.x) == 1", "self.x.lowerAscii() == 'a'", "self.?x == 1", "self[?0] == 1",
    "type(self) == string", "duration(self.x) > duration('1s')", "isSorted(self)", "quantity(self.x) == 1",
    "self.x.matches('(?=a)')", "self.x.matches('\\\\pL')", "self.x.matches('[[:alpha:]]')",
    "self.x.matches('a(?m)$')", ".self == 1", "self.`a-b` == 1", "self.namespace == 'a'",
    "other == 1", "self.x.indexOf('a') == 0", "self.all(k, v, true)", "self.all(self, true)",
])
def test_unsupported_constructs_are_reported_not_guessed(rule):
    result = run(rule, {"x": "a"})
    assert result.status == UNSUPPORTED, result
    assert result.message


@pytest.mark.parametrize("rule", ["self ==", "(self", "'unterminated", "has(self)", "1 +* 2", "", "self.",
                                  "self.x.matches('(')", "'\\q'", "9223372036854775808 == 1",
                                  "if == 1"])
def test_invalid_cel_is_an_error(rule):
    result = run(rule, {"x": "a"})
    assert result.status == ERROR, result
    assert result.message


def test_a_dynamic_unsupported_regex_is_unsupported():
    assert status("self.x.matches(self.re)", {"x": "a", "re": "(?=a)"}) == UNSUPPORTED
    assert status("self.x.matches(self.re)", {"x": "a", "re": "^a$"}) == PASSED


# --------------------------------------------------------------------------- CEL semantics


@pytest.mark.parametrize("rule,value,expected", [
    # commutative error absorption
    ("self.missing == 'a' || true", {}, PASSED),
    ("true || self.missing == 'a'", {}, PASSED),
    ("self.missing == 'a' && false", {}, FAILED),
    ("false && self.missing == 'a'", {}, FAILED),
    ("self.missing == 'a' || false", {}, ERROR),
    ("self.missing == 'a' && true", {}, ERROR),
    ("!(self.missing == 'a')", {}, ERROR),
    ("self.missing == 'a' ? true : true", {}, ERROR),
    # selection and has()
    ("has(self.a.b)", {}, ERROR),
    ("has(self.a.b)", {"a": {}}, FAILED),
    ("has(self.a.b)", {"a": {"b": ""}}, PASSED),
    ("has(self.a)", {"a": None}, FAILED),
    ("has(self.a)", {"a": []}, PASSED),
    ("has(self.a.b)", {"a": "text"}, ERROR),
    ("self.a.b == 1", {"a": {"b": 1}}, PASSED),
    ("self['a-b'] == 1 && self.__dash__x == 2 && self.a__dot__b == 3", {"a-b": 1, "-x": 2, "a.b": 3}, PASSED),
    ("self.__namespace__ == 'n' && self.a__underscores__b == 1", {"namespace": "n", "a__b": 1}, PASSED),
    # equality and comparisons
    ("self.a == 1", {"a": "1"}, ERROR),
    ("self.a == 1.0", {"a": 1}, PASSED),
    ("self.a != 'x'", {"a": True}, ERROR),
    ("self.a == [1, 'b']", {"a": [1, "b"]}, PASSED),
    ("self.a == self.b", {"a": {"k": 1}, "b": {"k": 1}}, PASSED),
    ("self.a < self.b", {"a": "abc", "b": "abd"}, PASSED),
    ("self.a < self.b", {"a": 2, "b": 2.5}, PASSED),
    ("self.a < self.b", {"a": "2", "b": 3}, ERROR),
    ("false < true", {}, PASSED),
    # size, in, string functions
    ("size(self.a) == 3 && self.a.size() == 3", {"a": "héé"}, PASSED),
    ("size(self.a) == 2", {"a": {"x": 1, "y": 2, "z": None}}, PASSED),
    ("size(self.a) == 0", {"a": 5}, ERROR),
    ("'x' in self.a", {"a": ["w", "x"]}, PASSED),
    ("'x' in self.a", {"a": {"x": 1}}, PASSED),
    ("1 in self.a", {"a": {"1": 1}}, FAILED),
    ("1 in self.a", {"a": ["1"]}, FAILED),
    ("self.a in 'abc'", {"a": "a"}, ERROR),
    ("self.a.startsWith('fl') && self.a.endsWith('ux') && self.a.contains('lu')", {"a": "flux"}, PASSED),
    ("self.a.startsWith(1)", {"a": "flux"}, ERROR),
    ("self.a.matches('^[a-z]+$')", {"a": "flux"}, PASSED),
    ("self.a.matches('^[a-z]+$')", {"a": "flux\n"}, FAILED),
    ("matches(self.a, 'l.x')", {"a": "flux"}, PASSED),
    ("self.a.matches('\\\\d')", {"a": "\u0663"}, FAILED),  # RE2's \d is ASCII only
    ("self.a.matches('(?i)FLUX')", {"a": "flux"}, PASSED),
    # arithmetic and literals
    ("-7 / 2 == -3 && -7 % 2 == -1 && 7 % -2 == 1", {}, PASSED),
    ("1 / 0 == 0", {}, ERROR),
    ("9223372036854775807 + 1 > 0", {}, ERROR),
    ("-9223372036854775808 < 0", {}, PASSED),
    ("1 + 1.0 == 2.0", {}, ERROR),
    ("'a' + 'b' == 'ab' && [1] + [2] == [1, 2]", {}, PASSED),
    ("0x1F == 31 && 1e3 == 1000.0 && .5 == 0.5", {}, PASSED),
    ("'\\x41\\u0042\\101\\n' == \"AB\\x41\\x0a\" && r'\\n' == '\\\\n'", {}, PASSED),
    ("'''two\nlines''' == 'two\\nlines'", {}, PASSED),
    ("self.a == null", {"a": None}, ERROR),
    ("null == null", {}, PASSED),
    # ternary and macros
    ("self.a > 1 ? self.b == 'x' : self.b == 'y'", {"a": 2, "b": "x"}, PASSED),
    ("self.a > 1 ? self.b == 'x' : self.b == 'y'", {"a": 0, "b": "x"}, FAILED),
    ("self.all(x, x > 0)", [1, 2], PASSED),
    ("self.all(x, x > 0)", [1, "a", 0], FAILED),  # a false absorbs the error
    ("self.all(x, x > 0)", [1, "a"], ERROR),
    ("self.exists(x, x == 2)", [1, "a", 2], PASSED),
    ("self.exists_one(x, x == 2)", [1, 2, 2], FAILED),
    ("self.exists_one(x, x == 2)", [2, 3], PASSED),
    ("self.exists_one(x, x == 2)", [2, "a"], ERROR),  # strict: no absorption
    ("self.all(k, k.startsWith('app.'))", {"app.a": 1, "app.b": 2}, PASSED),
    ("self.a.exists(x, x.name == 'b')", {"a": [{"name": "a"}, {"name": "b"}]}, PASSED),
    # results that are not bool
    ("self.a", {"a": 1}, ERROR),
    ("self.a", {"a": True}, PASSED),
    ("size(self)", [], ERROR),
])
def test_cel_semantics(rule, value, expected):
    assert status(rule, value) == expected


def test_self_of_any_type():
    assert status("self == 'x'", "x") == PASSED
    assert status("self > 2", 3) == PASSED
    assert status("size(self) == 2", [1, 2]) == PASSED
    assert status("self.a == 1", None) == ERROR


def test_foreign_yaml_types_are_not_guessed():
    import datetime

    assert status("self.a == '2024-01-01'", {"a": datetime.date(2024, 1, 1)}) == UNSUPPORTED
    assert status("has(self.a)", {"a": datetime.date(2024, 1, 1)}) == PASSED
    assert status("self.a == 'x'", {"a": b"x"}) == UNSUPPORTED
    assert status("self.a > 0", {"a": 2**70}) == UNSUPPORTED


# --------------------------------------------------------------------------- substitutions


BUCKET_STS = "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)"


@pytest.mark.parametrize("text", ["${BUCKET_PROVIDER}", "${BUCKET_PROVIDER:=aws}", "prefix-${X}",
                                  "ENC[AES256_GCM,data:abc,type:str]"])
def test_a_substituted_value_the_outcome_hangs_on_is_unknown(text):
    result = run(BUCKET_STS, {"provider": text, "sts": STS_AWS})
    assert result.status == UNKNOWN
    assert text[:20] in result.message
    assert cel.reads_substitution(compile_rule({"rule": BUCKET_STS}), {"provider": text, "sts": STS_AWS})


def test_a_substituted_value_that_does_not_matter_is_absorbed():
    assert status(BUCKET_STS, {"provider": "${P}"}) == PASSED  # no sts: true whatever the provider
    assert status("has(self.provider)", {"provider": "${P}"}) == PASSED  # presence is known
    assert status("self.a == 'x' && self.b == 'y'", {"a": "${A}", "b": "z"}) == FAILED
    assert not cel.reads_substitution(compile_rule({"rule": BUCKET_STS}), {"provider": "${P}"})


def test_substitutions_inside_lists_and_maps():
    assert status("'x' in self.a", {"a": ["${X}", "x"]}) == PASSED
    assert status("'x' in self.a", {"a": ["${X}", "y"]}) == UNKNOWN
    assert status("size(self.a) == 2", {"a": ["${X}", "y"]}) == PASSED
    assert status("self.a == self.b", {"a": ["${X}"], "b": ["x"]}) == UNKNOWN
    assert status("self.a.all(x, x.startsWith('v'))", {"a": ["v1", "${V}"]}) == UNKNOWN
    assert status("self.a.all(x, x.startsWith('v'))", {"a": ["w1", "${V}"]}) == FAILED
    assert status("self == 'a'", "${A}") == UNKNOWN
    assert status("self.a.b == 'x'", {"a": "${A}"}) == UNKNOWN  # the parent itself is substituted


def test_substitution_in_a_field_the_rule_does_not_read():
    value = {"interval": "${INTERVAL}", "chart": {"spec": {"chart": "app", "version": "${VERSION}"}}}
    assert status(RULE_TEXTS[0], value) == PASSED


# --------------------------------------------------------------------------- messages and caching


def test_messages():
    rule = "has(self.a)"
    assert run(rule, {}).message == "failed rule: has(self.a)"
    assert run("  has(self.a)\n", {}).message == "failed rule: has(self.a)"
    assert run(rule, {}, message="  need a  ").message == "need a"
    assert run(rule, {"b": "x"}, messageExpression="'b is ' + self.b", message="m").message == "b is x"
    assert run(rule, {}, messageExpression="'b is ' + self.b", message="m").message == "m"
    assert run(rule, {}, messageExpression="''", message="m").message == "m"
    assert run(rule, {}, messageExpression="'a\\nb'").message == "failed rule: has(self.a)"
    result = run(rule, {}, fieldPath=".a", reason="FieldValueRequired")
    assert (result.field_path, result.reason) == (".a", "FieldValueRequired")
    assert run(rule, {"a": 1}).message == ""


def test_compile_is_cached_and_rules_are_immutable():
    entry = {"rule": "has(self.x)", "message": "m"}
    assert compile_rule(entry) is compile_rule(dict(entry))
    assert compile_rule(entry) is not compile_rule({"rule": "has(self.x)", "message": "other"})
    with pytest.raises(AttributeError):
        compile_rule(entry).rule = "true"


def test_bad_entries_do_not_raise():
    for entry in [{}, {"rule": None}, {"rule": 3}, "has(self.x)", None, {"rule": "true", "message": 5}]:
        compiled = compile_rule(entry)  # type: ignore[arg-type]
        assert evaluate(compiled, {}).status in (PASSED, ERROR)


def test_results():
    ok = run("true", {})
    assert ok.passed and ok.judged and not ok.failed
    bad = run("false", {})
    assert bad.failed and bad.judged and bad == run("false", {}) and hash(bad) == hash(run("false", {}))
    assert not run("self.x", {}).judged


def test_import_is_cheap():
    code = ("import sys; before = set(sys.modules); import gitops_lint.cel; "
            "print(sorted(set(sys.modules) - before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    added = set(json.loads(out.replace("'", '"')))
    heavy = {"typing", "dataclasses", "inspect", "yaml", "jsonschema", "pydantic", "celpy", "cel_expr_python"}
    assert not added & heavy, added & heavy


def test_nesting_limits_do_not_raise():
    deep_rule = "(" * 200 + "true" + ")" * 200
    assert status(deep_rule, {}) == UNSUPPORTED
    long_rule = " || ".join(["false"] * 3000) + " || true"
    assert status(long_rule, {}) in (PASSED, UNSUPPORTED)
    deep_value: list = []
    for _ in range(5000):
        deep_value = [deep_value]
    assert status("self == self", deep_value) in (PASSED, UNSUPPORTED)


# --------------------------------------------------------------------------- property tests

json_leaves = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
               | st.text(max_size=12) | st.sampled_from(["${VAR}", "${VAR:=x}", "ENC[x]", "aws", "generic",
                                                          "generic-oidc", "RetryOnFailure", "HelmRepository"]))
KEYS = st.sampled_from(["chart", "chartRef", "provider", "sts", "secretRef", "certSecretRef", "interval",
                        "digestReflectionPolicy", "type", "commitStatusExpr", "retryInterval", "name",
                        "configMapRef", "serviceAccountName", "verify", "sourceRef", "kind", "oidcProviders",
                        "a", "b"]) | st.text(max_size=6)
values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(KEYS | st.integers() | st.booleans(), inner, max_size=6), max_leaves=25)
EXTRA_RULES = ["self.a.all(x, x.b > 1)", "self.exists(k, k in self.a)", "self.a[0] == self.b['k']",
               "size(self.a) + size(self.b) > 2 ? self.a == self.b : self.a != self.b",
               "self.a.matches(self.b)", "self.a.startsWith(self.b) || -self.a < self.b * 2 / self.a % 3",
               "self.a + self.b == self.b + self.a", "'x' in self.a && self.b in [1, 'x', [2]]"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_evaluation_of_random_values_never_raises(value):
    for rule in RULE_TEXTS + EXTRA_RULES:
        result = evaluate(compile_rule({"rule": rule}), value)
        assert result.status in (PASSED, FAILED, ERROR, UNSUPPORTED, UNKNOWN)
        assert result.status == FAILED or result.status == PASSED or result.message


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(list("self.a()[]{}!&|=<>?:,'\"\\+-*/% 0123456789xhasizeinu`rb")
                                     + ["self", "has(", "size(", ".all(", " in ", "oldSelf", "'${X}'"]),
                     max_size=40).map("".join),
       value=values)
def test_compiling_random_text_never_raises(text, value):
    compiled = compile_rule({"rule": text})
    assert evaluate(compiled, value).status in (PASSED, FAILED, ERROR, UNSUPPORTED, UNKNOWN)


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_result_does_not_depend_on_operand_order(value):
    """CEL's && and || are commutative, errors included."""
    for left, right in [("self.a == 'x'", "has(self.b)"), ("self.a.b == 1", "self.c == 'x'")]:
        for op in ("&&", "||"):
            one = status(f"{left} {op} {right}", value)
            other = status(f"{right} {op} {left}", value)
            judged = {PASSED, FAILED}
            assert (one in judged) == (other in judged)
            if one in judged:
                assert one == other


# --------------------------------------------------------------------------- against Google's runtime


def test_agrees_with_cel_expr_python_when_installed():
    """Differential check with Google's C++ runtime (pip install cel-expr-python to run it)."""
    pytest.importorskip("cel_expr_python")
    from cel_expr_python import cel as google

    env = google.NewEnv(variables={"self": google.Type.DYN})
    for rule, schema, good, bad in FLUX_RULES:
        expr = env.compile(rule)
        for value in good + bad:
            value = apply_defaults(schema or {}, value)
            result = expr.eval(data={"self": value})
            theirs = "error" if result.type() == google.Type.ERROR else (PASSED if result.value() else FAILED)
            assert status(rule, value) == theirs, (rule, value)
