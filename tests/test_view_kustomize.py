"""kustomize build semantics of the view (`view/kustomize.py`), pinned and compared with real kustomize.

Every case states the objects `kubectl kustomize` (kustomize v5.5) builds; where
kubectl is installed the same tree is also built by it, so the expectations
cannot drift from the oracle. The corpus test builds every kustomization of
`../shared/corpus` both ways.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from gitops_lint.engine import LintOptions, load_context
from gitops_lint.discover import repository_reader
from gitops_lint.view.kustomize import Kustomizer, finish, label_selector_matches
from tests.conftest import shared_path, write_tree

KUBECTL = shutil.which("kubectl")


def build(root: Path, folder: str) -> list[tuple]:
    ctx = load_context(LintOptions(paths=["."], cwd=root))
    kustomizer = Kustomizer(ctx.model.objects, ctx.files, repository_reader(root))
    return sorted((r.identity for r in finish(kustomizer.build(folder))), key=repr)


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def kustomize(folder: Path) -> list[tuple] | None:
    """What `kubectl kustomize` builds, as (group, kind, namespace, name); None when it refuses."""
    out = subprocess.run([KUBECTL, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(folder)],
                         capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0:
        return None
    found = []
    for doc in yaml.load_all(out.stdout, Loader=_Loader):
        if isinstance(doc, dict):
            api = str(doc.get("apiVersion") or "")
            meta = doc.get("metadata") or {}
            found.append((api.rpartition("/")[0] if "/" in api else "", doc.get("kind"), meta.get("namespace"),
                          meta.get("name")))
    return sorted(found, key=repr)


def assert_refused_as_kubectl(root: Path, folder: str, refused: bool):
    """Whether the view finds what makes kustomize refuse to build `folder`, and kubectl kustomize (where
    installed) agrees; the build."""
    ctx = load_context(LintOptions(paths=["."], cwd=root))
    built = Kustomizer(ctx.model.objects, ctx.files, repository_reader(root)).build(folder)
    problems = [p.message for p in built.problems if p.fatal]
    assert bool(problems) == refused, problems
    if KUBECTL:
        assert (kustomize(root / folder) is None) == refused, "kubectl kustomize disagrees"
    return built


def check(root: Path, folder: str, expected: list[tuple]) -> None:
    got = build(root, folder)
    assert got == sorted(expected, key=repr)
    if KUBECTL:
        assert kustomize(root / folder) == got


BASE = {
    "base/kustomization.yaml": "resources: [app.yaml, ns.yaml, crd.yaml]\n",
    "base/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n",
    "base/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: placeholder}\n",
    "base/crd.yaml": ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                      "metadata: {name: things.example.com}\n"),
}


def test_namespace_prefix_and_suffix_follow_kustomize(tmp_path: Path) -> None:
    write_tree(tmp_path, {**BASE, "prod/kustomization.yaml": (
        "resources: [../base]\nnamespace: prod\nnamePrefix: p-\nnameSuffix: -x\n")})
    # The Namespace object takes the namespace's name; CRDs and Namespaces keep their names.
    check(tmp_path, "prod", [("apps", "Deployment", "prod", "p-web-x"), ("", "Namespace", None, "prod"),
                             ("apiextensions.k8s.io", "CustomResourceDefinition", None, "things.example.com")])


def test_components_and_patches_change_identity_where_kustomize_does(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        **BASE,
        "comp/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                    "resources: [extra.yaml]\n"),
        "comp/extra.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: extra}\n",
        "over/kustomization.yaml": (
            "resources: [../base]\ncomponents: [../comp]\n"
            "patches:\n"
            "  - target: {kind: Deployment, name: web}\n"
            "    patch: |\n      - op: replace\n        path: /metadata/name\n        value: renamed\n"
            "  - patch: |\n      $patch: delete\n      apiVersion: v1\n      kind: Namespace\n"
            "      metadata: {name: placeholder}\n"),
    })
    check(tmp_path, "over", [("apps", "Deployment", None, "renamed"), ("", "ServiceAccount", None, "extra"),
                             ("apiextensions.k8s.io", "CustomResourceDefinition", None, "things.example.com")])


_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings%s}\ndata: {a: '1'}\n"
_ADD_B = "\n        - op: add\n          path: /data/b\n          value: '2'\n"
_PREFIXED_BASE = {"base/kustomization.yaml": "namePrefix: base-\nresources: [cm.yaml]\n", "base/cm.yaml": _CM % ""}
#: Which object a patch finds, by the ids kustomize knows it by (the one it was read with, the one it has).
PATCH_TARGETS = {
    "a target names a base's object as written, before the base's prefix": (
        {**_PREFIXED_BASE,
         "over/kustomization.yaml": ("resources: [../base]\npatches:\n  - target: {kind: ConfigMap, name: settings}\n"
                                     "    patch: |" + _ADD_B)}, True),
    "a target names the object as the base made it": (
        {**_PREFIXED_BASE,
         "over/kustomization.yaml": ("resources: [../base]\npatches:\n"
                                     "  - target: {kind: ConfigMap, name: base-settings}\n    patch: |" + _ADD_B)}, True),
    "a target in `default` finds an object without a namespace": (
        {"over/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n"
                                     "  - target: {kind: ConfigMap, namespace: default}\n    patch: |" + _ADD_B),
         "over/cm.yaml": _CM % ""}, True),
    "a target finds a base's object by the namespace it was written in": (
        {"base/kustomization.yaml": "namespace: moved\nresources: [cm.yaml]\n", "base/cm.yaml": _CM % ", namespace: one",
         "over/kustomization.yaml": ("resources: [../base]\npatches:\n"
                                     "  - target: {kind: ConfigMap, namespace: one}\n    patch: |" + _ADD_B)}, True),
    "a strategic-merge patch names a base's object as written": (
        {**_PREFIXED_BASE,
         "over/kustomization.yaml": ("resources: [../base]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                     "      kind: ConfigMap\n      metadata: {name: settings}\n      data: {b: '2'}\n")}, True),
}


@pytest.mark.parametrize("case", sorted(PATCH_TARGETS))
def test_a_patch_finds_its_object_by_any_id_kustomize_keeps(tmp_path: Path, case: str) -> None:
    tree, patched = PATCH_TARGETS[case]
    write_tree(tmp_path, tree)
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    built = finish(Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("over"))
    assert [r.data["data"] for r in built] == [{"a": "1", "b": "2"} if patched else {"a": "1"}]
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "over")], capture_output=True, text=True, timeout=120)
        assert [d["data"] for d in yaml.safe_load_all(out.stdout)] == [r.data["data"] for r in built]


def test_a_strategic_merge_patch_without_a_namespace_names_no_object_in_one(tmp_path: Path) -> None:
    """kustomize finds a target-less patch by its id, where no namespace is `default`: an object written in
    another namespace is not it, and the build fails ("no matches for Id")."""
    write_tree(tmp_path, {"over/kustomization.yaml": (
        "resources: [cm.yaml]\npatches:\n  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n"
        "      metadata: {name: settings}\n      data: {b: '2'}\n"), "over/cm.yaml": _CM % ", namespace: one"})
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    built = Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("over")
    assert [r.data["data"] for r in built.resources] == [{"a": "1"}]
    assert [(p.message, p.fatal) for p in built.problems] == [(
        "the patch names ConfigMap/settings, which this build does not hold; the build holds it in namespace one, "
        "and the patch must name that namespace (none means default): kustomize fails the build (\"no matches for "
        "Id\")", True)]
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "over")], capture_output=True, text=True, timeout=120)
        assert out.returncode != 0 and "no matches for Id" in out.stderr


def test_a_replacement_reject_rejects_by_its_selectors_or_by_its_id_each_alone(tmp_path: Path) -> None:
    """kustomize rejects a target whose labels a reject's labelSelector matches, whatever name the reject gives
    (`selectByAnnoAndLabel`), and one whose id it names (`containsRejectId`)."""
    write_tree(tmp_path, {
        "over/kustomization.yaml": (
            "resources: [cms.yaml]\nreplacements:\n  - source: {kind: ConfigMap, name: src, fieldPath: data.v}\n"
            "    targets:\n      - select: {kind: ConfigMap}\n        reject:\n          - {name: src}\n"
            "          - {name: nomatch, labelSelector: skip=yes}\n        fieldPaths: [data.v]\n"),
        "over/cms.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: src}\ndata: {v: new}\n---\n"
                          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {skip: 'yes'}}\ndata: {v: old}\n"
                          "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {v: old}\n"),
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    built = finish(Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("over"))
    got = {r.name: r.data["data"]["v"] for r in built}
    assert got == {"src": "new", "a": "old", "b": "new"}
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "over")], capture_output=True, text=True, timeout=120)
        assert {d["metadata"]["name"]: d["data"]["v"] for d in yaml.safe_load_all(out.stdout)} == got


WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 1
              podAffinityTerm: {topologyKey: zone, labelSelector: {matchLabels: {app: web}}}
      containers: [{name: app, image: web}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  schedule: "@daily"
  jobTemplate: {spec: {template: {spec: {containers: [{name: app, image: backup}]}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: db}]}}
  volumeClaimTemplates: [{metadata: {name: data}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {}}
"""


@pytest.mark.parametrize("settings", [
    "commonLabels: {team: web}\ncommonAnnotations: {owner: me}\n",
    "labels:\n  - pairs: {team: web}\n  - pairs: {tier: front}\n    includeTemplates: true\n",
    "labels:\n  - pairs: {team: web}\n    includeSelectors: true\n  - pairs: {team: ops}\ncommonLabels: {team: all}\n",
    "labels:\n  - pairs: {team: web}\n    fields: [{path: 'spec/template/spec/containers[]/env', kind: Deployment, create: true}]\n",
], ids=["common", "templates", "selectors-and-order", "own-fields"])
def test_labels_and_annotations_go_where_kustomize_writes_them(tmp_path: Path, settings: str) -> None:
    """Labels go into selectors and pod templates as kustomize's field specs say (commonLabels,
    includeSelectors, includeTemplates, a `labels` entry's own fields), a later transformer winning a key."""
    write_tree(tmp_path, {"app/kustomization.yaml": settings + "resources: [workloads.yaml]\n",
                          "app/workloads.yaml": WORKLOADS})
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    got = sorted((r.data for r in finish(Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path))
                                         .build("app"))), key=repr)
    deployment = next(d for d in got if d["kind"] == "Deployment")
    if settings.startswith("common"):
        assert deployment["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "web"}
        assert deployment["spec"]["template"]["metadata"]["annotations"] == {"owner": "me"}
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True, timeout=120)
        assert got == sorted(yaml.load_all(out.stdout, Loader=_Loader), key=repr)


IMAGES = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers: [{name: init, image: "busybox:1.0"}]
      containers:
        - {name: a, image: nginx}
        - {name: b, image: "redis:7@sha256:old"}
        - {name: c}
        - {name: d, image: myXapp}
        - {name: e, image: "localhost:5000/nginx:1"}
---
apiVersion: example.com/v1
kind: Thing
metadata: {name: t}
spec: {deep: {containers: [{name: x, image: "nginx:0"}]}}
"""


def test_images_are_set_as_kustomizes_image_transformer_sets_them(tmp_path: Path) -> None:
    """Every containers/initContainers image anywhere that names the image (the name is a regular expression
    to kustomize: `my.app` names `myXapp`), then once more at the pod fields, so a tag suffix lands twice
    there; a registry port is no tag."""
    write_tree(tmp_path, {"app/kustomization.yaml": (
        "resources: [d.yaml]\nimages:\n  - {name: nginx, newName: 'registry:5000/nginx', newTag: '1.2'}\n"
        "  - {name: busybox, tagSuffix: -debug}\n  - {name: redis, digest: 'sha256:abc'}\n"
        "  - {name: my.app, newTag: v2}\n"), "app/d.yaml": IMAGES})
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    got = [r.data for r in finish(Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("app"))]
    pod = got[0]["spec"]["template"]["spec"]
    assert [c.get("image") for c in pod["containers"]] == [
        "registry:5000/nginx:1.2", "redis@sha256:abc", None, "myXapp:v2", "localhost:5000/nginx:1"]
    assert pod["initContainers"][0]["image"] == "busybox:1.0-debug-debug"
    assert got[1]["spec"]["deep"]["containers"][0]["image"] == "registry:5000/nginx:1.2"
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True, timeout=120)
        assert got == list(yaml.safe_load_all(out.stdout))


def test_replicas_set_the_count_of_each_workload_of_the_name_and_fail_without_one(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "app/kustomization.yaml": "resources: [d.yaml]\nreplicas:\n  - {name: web, count: 3}\n  - {name: api, count: 2}\n",
        "app/d.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n"
                       "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: api}\n"),
        "bad/kustomization.yaml": "resources: [../app]\nreplicas:\n  - {name: nope, count: 3}\n",
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    kustomizer = Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path))
    got = [r.data for r in finish(kustomizer.build("app"))]
    assert [d["spec"]["replicas"] for d in got] == [3, 2]
    assert [p.fatal for p in kustomizer.build("bad").problems] == [True]
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True, timeout=120)
        assert got == list(yaml.safe_load_all(out.stdout))
        assert kustomize(tmp_path / "bad") is None


_DEPLOY = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n"
           "      containers: [{name: app, image: nginx, env: [{name: X, value: o}]}]\n")
_CMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {key: v1}\n"
#: Builds the view once followed differently from kustomize (a hunt with kubectl kustomize as the oracle):
#: (files, a field path of the object named, the value kustomize gives it).
KUSTOMIZE_CASES = {
    "a patch's top-level $patch: replace leaves the object": (
        {"app/kustomization.yaml": "resources: [cm.yaml]\npatches: [{path: p.yaml}]\n", "app/cm.yaml": _CMAP,
         "app/p.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n$patch: replace\ndata: {other: x}\n"},
        ("ConfigMap", "cm", ("data",)), {"key": "v1"}),
    "allowNameChange renames, and the new name is found": (
        {"app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n"
                                    "    options: {allowNameChange: true}\n    patch: |\n      apiVersion: v1\n"
                                    "      kind: ConfigMap\n      metadata: {name: cm2}\n"
                                    "  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: cm2}\n"
                                    "      data: {key: v2}\n"), "app/cm.yaml": _CMAP},
        ("ConfigMap", "cm2", ("data", "key")), "v2"),
    "allowKindChange changes the kind": (
        {"app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n"
                                    "    options: {allowKindChange: true}\n    patch: |\n      apiVersion: v1\n"
                                    "      kind: Secret\n      metadata: {name: cm}\n"), "app/cm.yaml": _CMAP},
        ("Secret", "cm", ("data", "key")), "v1"),
    "a List in a patch file is its items": (
        {"app/kustomization.yaml": "resources: [deploy.yaml]\npatches: [{path: p.yaml}]\n", "app/deploy.yaml": _DEPLOY,
         "app/p.yaml": ("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: apps/v1\n    kind: Deployment\n"
                        "    metadata: {name: app}\n    spec: {replicas: 3}\n")},
        ("Deployment", "app", ("spec", "replicas")), 3),
    "the name between a base's prefix and suffix is an id": (
        {"base/kustomization.yaml": "namePrefix: a-\nnameSuffix: -s\nresources: [cm.yaml]\n", "base/cm.yaml": _CMAP,
         "app/kustomization.yaml": ("resources: [../base]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                    "      kind: ConfigMap\n      metadata: {name: a-cm}\n      data: {key: v2}\n")},
        ("ConfigMap", "a-cm-s", ("data", "key")), "v2"),
    "a JSON patch replaces a missing key and adds an annotation": (
        {"app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |\n"
                                    "      - {op: replace, path: /data/nope, value: x}\n"
                                    "      - {op: add, path: /metadata/annotations/foo, value: bar}\n"),
         "app/cm.yaml": _CMAP},
        ("ConfigMap", "cm", ("metadata", "annotations")), {"foo": "bar"}),
    "the namespace reaches subjects named default, an APIService's service, a CRD's webhook": (
        {"app/kustomization.yaml": "namespace: team\nresources: [r.yaml]\n",
         "app/r.yaml": ("apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.local}\n"
                        "spec: {group: x, version: v1}\n---\napiVersion: rbac.authorization.k8s.io/v1\n"
                        "kind: ClusterRoleBinding\nmetadata: {name: crb}\nsubjects: [{kind: User, name: default}, "
                        "{kind: ServiceAccount, name: other, namespace: x}]\nroleRef: {kind: ClusterRole, name: r, "
                        "apiGroup: rbac.authorization.k8s.io}\n---\napiVersion: apiextensions.k8s.io/v1\n"
                        "kind: CustomResourceDefinition\nmetadata: {name: things.example.com}\nspec:\n  conversion:\n"
                        "    webhook: {clientConfig: {service: {name: conv, namespace: old}}}\n")},
        ("APIService", "v1.local", ("spec", "service")), {"namespace": "team"}),
    "cluster scope is by version: a v1alpha1 ClusterRole and a ValidatingAdmissionPolicy get the namespace": (
        {"app/kustomization.yaml": "namespace: team\nresources: [r.yaml]\n",
         "app/r.yaml": ("apiVersion: rbac.authorization.k8s.io/v1alpha1\nkind: ClusterRole\nmetadata: {name: cr}\n---\n"
                        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n"
                        "metadata: {name: vap}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                        "metadata: {name: stays}\n")},
        ("ClusterRole", "cr", ("metadata", "namespace")), "team"),
    "a replacement selecting a namespace leaves cluster-scoped objects alone": (
        {"app/kustomization.yaml": ("namespace: team\nresources: [r.yaml]\nreplacements:\n"
                                    "  - source: {kind: ConfigMap, name: cm, fieldPath: data.key}\n"
                                    "    targets: [{select: {namespace: team}, fieldPaths: [metadata.labels.app]}]\n"),
         "app/r.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {app: x}}\ndata: {key: v1}\n---\n"
                        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\n")},
        ("ConfigMap", "cm", ("metadata", "labels", "app")), "v1"),
    "webhooks merge by name, the patch's first": (
        {"app/kustomization.yaml": ("resources: [w.yaml]\npatches:\n  - patch: |\n"
                                    "      apiVersion: admissionregistration.k8s.io/v1\n"
                                    "      kind: ValidatingWebhookConfiguration\n      metadata: {name: w}\n"
                                    "      webhooks: [{name: b.example.com, timeoutSeconds: 5}]\n"),
         "app/w.yaml": ("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
                        "metadata: {name: w}\nwebhooks:\n  - {name: a.example.com, timeoutSeconds: 1}\n"
                        "  - {name: b.example.com, timeoutSeconds: 2}\n")},
        ("ValidatingWebhookConfiguration", "w", ("webhooks",)),
        [{"name": "b.example.com", "timeoutSeconds": 5}, {"name": "a.example.com", "timeoutSeconds": 1}]),
    "a patch naming the namespace an object was written in leaves it where the build put it": (
        {"base/kustomization.yaml": "namespace: new\nresources: [cm.yaml]\n",
         "base/cm.yaml": _CMAP.replace("{name: cm}", "{name: cm, namespace: old}"),
         "app/kustomization.yaml": ("resources: [../base]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                    "      kind: ConfigMap\n      metadata: {name: cm, namespace: old}\n"
                                    "      data: {key: v2}\n")},
        ("ConfigMap", "cm", ("metadata", "namespace")), "new"),
    "commonLabels make no volumeClaimTemplates where a StatefulSet has none": (
        {"app/kustomization.yaml": "commonLabels: {x: z}\nresources: [s.yaml]\n",
         "app/s.yaml": ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n"
                        "  selector: {matchLabels: {app: db}}\n  template: {metadata: {labels: {app: db}}}\n")},
        ("StatefulSet", "db", ("spec", "selector", "matchLabels")), {"app": "db", "x": "z"}),
    "replicas without a count scale to 0": (
        {"app/kustomization.yaml": "resources: [deploy.yaml]\nreplicas: [{name: app}]\n", "app/deploy.yaml": _DEPLOY},
        ("Deployment", "app", ("spec", "replicas")), 0),
    "a Namespace of another group is namespaced, not renamed": (
        {"app/kustomization.yaml": "namespace: team\nresources: [ns.yaml]\n",
         "app/ns.yaml": "apiVersion: example.com/v1\nkind: Namespace\nmetadata: {name: mine}\n"},
        ("Namespace", "mine", ("metadata", "namespace")), "team"),
    "an env file's byte order mark is no part of its first key": (
        {"app/kustomization.yaml": ("configMapGenerator: [{name: cfg, envs: [app.env], options: "
                                    "{disableNameSuffixHash: true}}]\n"), "app/app.env": "\ufeffKEY=value\n"},
        ("ConfigMap", "cfg", ("data",)), {"KEY": "value"}),
}


@pytest.mark.parametrize("case", sorted(KUSTOMIZE_CASES))
def test_the_view_builds_what_kustomize_builds(tmp_path: Path, case: str) -> None:
    files, (kind, name, path), expected = KUSTOMIZE_CASES[case]
    write_tree(tmp_path, files)
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    build = Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("app")
    assert not [p.message for p in build.problems if p.fatal]
    got = {(r.kind, r.name): r.data for r in finish(build)}
    value = got[(kind, name)]
    for key in path:
        value = value[key]
    assert value == expected
    if KUBECTL:
        want = {(d["kind"], d["metadata"]["name"]): d for d in kustomize_data(tmp_path / "app")}
        assert set(got) == set(want)
        assert not [(key, d) for key in want if (d := data_difference(got[key], want[key]))]


_TWO_CMS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\n"


@pytest.mark.parametrize("files, message", [
    ({"app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n  - patch: |\n      - {op: add, path: /data, value: {a: b}}\n",
      "app/cm.yaml": _TWO_CMS}, "must specify a target for JSON patch"),
    ({"app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |\n"
                                 "      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: cm}\n"
                                 "      data: {a: b}\n      ---\n      apiVersion: v1\n      kind: ConfigMap\n"
                                 "      metadata: {name: cm2}\n"), "app/cm.yaml": _TWO_CMS},
     "Multiple Strategic-Merge Patches"),
    ({"a/kustomization.yaml": "namespace: a\nresources: [../cm]\n", "b/kustomization.yaml": "namespace: b\nresources: [../cm]\n",
      "cm/kustomization.yaml": "resources: [cm.yaml]\n", "cm/cm.yaml": _TWO_CMS.split("---")[0],
      "app/kustomization.yaml": ("resources: [../a, ../b]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                 "      kind: ConfigMap\n      metadata: {name: cm}\n      data: {a: b}\n")},
     "multiple matches for Id"),
    ({"app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - patch: |\n      kind: ConfigMap\n"
                                 "      metadata: {name: cm}\n      data: {a: b}\n"), "app/cm.yaml": _TWO_CMS},
     "no matches for Id"),
    ({"app/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n  - patch: |\n      apiVersion: v1\n"
                                 "      kind: ConfigMap\n      data: {a: b}\n"), "app/cm.yaml": _TWO_CMS},
     "unable to parse SM or JSON patch"),
    ({"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/kustomization.yml": "resources: [cm.yaml]\n",
      "app/cm.yaml": _TWO_CMS}, "Found multiple kustomization files"),
], ids=["json-patch-without-target", "several-patches-with-a-target", "an-id-two-objects-had",
        "a-patch-without-apiVersion", "a-patch-without-a-name", "two-kustomization-files"])
def test_patch_entries_kustomize_refuses_fail_the_build(tmp_path: Path, files: dict, message: str) -> None:
    write_tree(tmp_path, files)
    built = assert_refused_as_kubectl(tmp_path, "app", True)
    assert [p.message for p in built.problems if p.fatal and message in p.message]


_THING = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
          "spec": {"list": [1, 2, 3], "map": {"k": "v"}}}


@pytest.mark.parametrize("ops, spec", [
    ([{"op": "add", "path": "/spec/list/-1", "value": 9}], {"list": [1, 2, 3, 9], "map": {"k": "v"}}),
    ([{"op": "add", "path": "/spec/list/-4", "value": 0}], {"list": [0, 1, 2, 3], "map": {"k": "v"}}),
    ([{"op": "remove", "path": "/spec/list/-1"}], {"list": [1, 2], "map": {"k": "v"}}),
    ([{"op": "replace", "path": "/spec/list/01", "value": 7}], {"list": [1, 7, 3], "map": {"k": "v"}}),
    ([{"op": "copy", "path": "/spec/map/z", "from": "/spec/missing"}], {"list": [1, 2, 3], "map": {"k": "v", "z": None}}),
    ([{"op": "replace", "path": "/spec/map/z", "value": 1}], {"list": [1, 2, 3], "map": {"k": "v", "z": 1}}),
    ([{"op": "test", "path": "/spec/missing", "value": None}], {"list": [1, 2, 3], "map": {"k": "v"}}),
    ([{"op": "test", "path": "/spec/missing"}], None),
    ([{"op": "add", "path": "/spec/list/5", "value": 9}], None),
    ([{"op": "replace", "path": "/spec/list/-", "value": 9}], None),
    ([{"op": "remove", "path": "/spec/map/z"}], None),
    ([{"op": "add", "path": "/spec/missing/deep", "value": 1}], None),
    ([{"op": "copy", "path": "/spec/z", "from": "/spec/missing/deep"}], None),
    ([{"op": "move", "path": "/spec/z", "from": "/spec/missing"}], None),
])
def test_json_patches_apply_as_kustomizes_library_applies_them(tmp_path: Path, ops: list, spec: dict | None) -> None:
    """evanphx/json-patch as kustomize runs it: negative indices from the end, Go's reading of `01`, `copy`
    from a missing key copies null, `replace` of a missing key adds it; what does not apply fails the build
    (a fuzz of 1,000 random operations agreed with kubectl kustomize)."""
    import json

    write_tree(tmp_path, {"app/t.yaml": json.dumps(_THING), "app/kustomization.yaml": json.dumps(
        {"resources": ["t.yaml"], "patches": [{"target": {"kind": "Thing"}, "patch": json.dumps(ops)}]})})
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    build = Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("app")
    assert [p.fatal for p in build.problems] == ([] if spec is not None else [True])
    if spec is not None:
        assert build.resources[0].data["spec"] == spec
    if KUBECTL:
        built = kustomize_data(tmp_path / "app")
        assert (built is None) == (spec is None)
        assert built is None or built[0]["spec"] == spec


_JSON_PATHS = ["/spec/list/0", "/spec/list/3", "/spec/list/-", "/spec/list/5", "/spec/list/-1", "/spec/list/01",
               "/spec/map/k", "/spec/map/z", "/spec/missing", "/spec/missing/deep", "/metadata/annotations/x",
               "/spec", "/spec/map/k/deeper"]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed")
def test_json_patches_agree_with_kustomize_on_random_operations(tmp_path: Path) -> None:
    """Property: random JSON patch operations do to the object what kubectl kustomize does, or both refuse."""
    import json

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from gitops_lint.view.kustomize import json6902

    operation = st.fixed_dictionaries({"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
                                       "path": st.sampled_from(_JSON_PATHS)},
                                      optional={"value": st.sampled_from(["s", 7, {"q": 1}, [9], None]),
                                                "from": st.sampled_from(_JSON_PATHS)})

    @settings(max_examples=60, deadline=None, derandomize=True,  # the same operations on every machine
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(operation, min_size=1, max_size=2))
    def agrees(ops: list) -> None:
        folder = tmp_path / "app"
        folder.mkdir(exist_ok=True)
        (folder / "t.yaml").write_text(json.dumps(_THING))
        (folder / "kustomization.yaml").write_text(json.dumps(
            {"resources": ["t.yaml"], "patches": [{"target": {"kind": "Thing"}, "patch": json.dumps(ops)}]}))
        built = kustomize_data(folder)
        got = json6902(_THING, ops)
        assert (built is None) == (got is None), ops
        assert built is None or data_difference(got, built[0]) is None, ops

    agrees()


def test_generated_names_carry_kustomizes_content_hash(tmp_path: Path) -> None:
    long_value = "x" * 200  # more than one 70-character line of base64: kyaml wraps it, and the hash sees that
    write_tree(tmp_path, {
        "gen/kustomization.yaml": (
            "namespace: apps\n"
            "configMapGenerator:\n  - name: settings\n    literals: [a=1, 'b=<x&y>']\n  - name: empty\n"
            "secretGenerator:\n  - name: creds\n    files: [token=token.txt]\n"
            "  - name: fixed\n    literals: [k=v]\n    options: {disableNameSuffixHash: true}\n"),
        "gen/token.txt": long_value,
    })
    got = build(tmp_path, "gen")
    assert ("", "ConfigMap", "apps", "settings-cchh4fmt2g") in got  # as kubectl kustomize names it
    assert ("", "ConfigMap", "apps", "empty-6ct58987ht") in got
    assert ("", "Secret", "apps", "fixed") in got
    if KUBECTL:
        assert kustomize(tmp_path / "gen") == got


def test_generator_merge_keeps_one_object(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "base/kustomization.yaml": "configMapGenerator:\n  - name: cfg\n    literals: [a=1]\n",
        "over/kustomization.yaml": ("resources: [../base]\nconfigMapGenerator:\n  - name: cfg\n"
                                    "    behavior: merge\n    literals: [b=2]\n"),
    })
    got = build(tmp_path, "over")
    assert len(got) == 1 and got[0][3].startswith("cfg-")
    if KUBECTL:
        assert kustomize(tmp_path / "over") == got


REPLACEMENTS = {
    "app/kustomization.yaml": """\
namespace: shop
resources: [r.yaml]
replacements:
  - path: replacements.yaml
  - source: {kind: ConfigMap, name: src, fieldPath: data.img, options: {delimiter: ':', index: 1}}
    targets:
      - select: {kind: Deployment}
        reject: [{name: other}]
        fieldPaths:
          - spec.template.spec.containers.[name=side].image
        options: {delimiter: ':', index: 1}
  - source: {kind: Deployment, name: d, fieldPath: spec.replicas}
    targets:
      - select: {kind: ConfigMap}
        fieldPaths: [data.fromint, data.count]
        options: {create: true}
""",
    "app/replacements.yaml": """\
- source: {kind: ConfigMap, name: src, fieldPath: metadata.namespace}
  targets:
    - select: {kind: Deployment}
      fieldPaths:
        - spec.template.metadata.annotations.ns
        - spec.template.spec.containers.[name=app].image
      options: {create: true}
- source: {kind: ConfigMap, name: src, fieldPath: data.count}
  targets:
    - select: {kind: Deployment}
      reject: [{name: other}]
      fieldPaths: [spec.replicas, metadata.labels.count, metadata.annotations.created]
      options: {create: true}
""",
    "app/r.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: src}
data: {count: "3", img: "repo/x:v2"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, labels: {count: old}}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - {name: app, image: nginx}
        - {name: side, image: "busybox:1.0"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other}
spec:
  replicas: 1
""",
}
#: What kubectl kustomize (v5.5) builds of REPLACEMENTS["app"].
REPLACEMENTS_BUILT = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: src, namespace: shop}
data: {count: "3", img: "repo/x:v2", fromint: 3}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: shop, labels: {count: "3"}, annotations: {created: "3"}}
spec:
  replicas: 3
  template:
    metadata: {annotations: {ns: shop}}
    spec:
      containers:
        - {name: app, image: shop}
        - {name: side, image: "busybox:v2"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: shop}
spec:
  replicas: 1
  template:
    metadata: {annotations: {ns: shop}}
    spec:
      containers:
        - {name: app, image: shop}
"""


def built_data(root: Path, folder: str):
    ctx = load_context(LintOptions(paths=["."], cwd=root))
    return Kustomizer(ctx.model.objects, ctx.files, repository_reader(root)).build(folder)


def test_replacements_copy_values_as_kustomize_does(tmp_path: Path) -> None:
    """After every other transformer, in order; an existing scalar keeps its type (the int field takes "3"
    as 3, the string field takes 3 as "3"), a created field takes the source's, `create` makes missing list
    elements too; delimiters split and join; `reject` keeps a target out."""
    write_tree(tmp_path, REPLACEMENTS)
    built = built_data(tmp_path, "app")
    assert built.complete
    expected = list(yaml.safe_load_all(REPLACEMENTS_BUILT))
    assert [r.data for r in finish(built)] == expected
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        assert sorted(yaml.safe_load_all(out.stdout), key=repr) == sorted(expected, key=repr)


def test_replacements_the_view_cannot_follow_leave_the_build_incomplete(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "app/kustomization.yaml": ("resources: [r.yaml]\nreplacements:\n  - source: {kind: ConfigMap}\n"
                                   "    targets:\n      - select: {kind: Deployment}\n"
                                   "        fieldPaths: ['spec.template.spec.containers.*.image']\n"),
        "app/r.yaml": REPLACEMENTS["app/r.yaml"],
    })
    built = built_data(tmp_path, "app")
    assert not built.complete
    assert [r.data for r in built.resources] == list(yaml.safe_load_all(REPLACEMENTS["app/r.yaml"]))


@pytest.mark.parametrize("replacement", [
    "- source: {kind: ConfigMap, name: src, fieldPath: 5}\n  targets: [{select: {kind: Deployment}}]\n",
    "- source: {kind: ConfigMap, name: src}\n  targets: [{select: {kind: Deployment}, fieldPaths: 5}]\n",
    "- source: {kind: ConfigMap, name: src}\n  targets: [{select: {kind: Deployment}, fieldPaths: [[a]]}]\n",
    "- source: {kind: ConfigMap, name: src}\n  targets: [{select: Deployment, fieldPaths: [a]}]\n",
    "- source: {kind: ConfigMap, name: src}\n  targets: [{select: {kind: Deployment}, options: {create: true},\n"
    "    fieldPaths: [" + ".".join(f"k{i}" for i in range(1500)) + "]}]\n",
    "- source: [ConfigMap]\n  targets: {select: {kind: Deployment}}\n",
    "- 5\n- [a, b]\n- null\n",
])
def test_replacements_written_wrong_leave_the_build_incomplete(tmp_path: Path, replacement: str) -> None:
    """kustomize refuses each (or the view does not model it): never a crash, never a half-applied entry."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": "resources: [r.yaml]\nreplacements:\n  - path: replacements.yaml\n",
        "app/replacements.yaml": replacement,
        "app/r.yaml": REPLACEMENTS["app/r.yaml"],
    })
    built = built_data(tmp_path, "app")
    assert not built.complete
    assert [r.data for r in built.resources] == list(yaml.safe_load_all(REPLACEMENTS["app/r.yaml"]))


def test_a_replacement_sets_every_list_element_that_matches(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "app/kustomization.yaml": ("resources: [r.yaml]\nreplacements:\n  - source: {kind: ConfigMap, name: src, "
                                   "fieldPath: data.img}\n    targets:\n      - select: {kind: Deployment}\n"
                                   "        fieldPaths:\n          - spec.template.spec.containers.[name=app].image\n"),
        "app/r.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: src}\ndata: {img: new}\n---\n"
                       "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
                       "      containers: [{name: app, image: a}, {name: side, image: b}, {name: app, image: c}]\n"),
    })
    built = built_data(tmp_path, "app")
    containers = built.resources[1].data["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "app", "image": "new"}, {"name": "side", "image": "b"},
                          {"name": "app", "image": "new"}]
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True, check=True)
        assert list(yaml.safe_load_all(out.stdout))[1]["spec"]["template"]["spec"]["containers"] == containers


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ("app=web", {"app": "web"}, True),
    ("app=web,tier!=db", {"app": "web", "tier": "db"}, False),
    ("app in (web, api)", {"app": "api"}, True),
    ("!legacy", {"legacy": "true"}, False),
    ("app", {}, False),
])
def test_label_selectors(selector: str, labels: dict, expected: bool) -> None:
    assert label_selector_matches(selector, labels) is expected


def kustomize_data(folder: Path) -> list[dict] | None:
    """What `kubectl kustomize` builds, read as kustomize writes it (go-yaml v3); None when it refuses."""
    from gitops_lint.yaml.loader import KYAML, load_text

    out = subprocess.run([KUBECTL, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(folder)],
                         capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0:
        return None
    return [doc.data for doc in load_text(out.stdout, reader=KYAML).documents if isinstance(doc.data, dict)]


def _identity(data: dict) -> tuple:
    api, meta = str(data.get("apiVersion") or ""), data.get("metadata") or {}
    return (api.rpartition("/")[0] if "/" in api else "", data.get("kind"), meta.get("namespace"), meta.get("name"))


def data_difference(view: object, kustomize: object, path: str = "") -> str | None:
    """Where the view's object differs from kustomize's, if it does. Numbers compare by value and text by its
    words (kustomize writes `1.0` as `1`, and re-folds folded text with more-indented lines); the namespace
    kustomize's nameReference gives a binding's ServiceAccount subject is not modelled."""
    if isinstance(view, dict) and isinstance(kustomize, dict):
        for key in sorted(set(view) | set(kustomize), key=str):
            if key == "namespace" and path.startswith("/subjects[") and key not in view:
                continue
            if key not in view or key not in kustomize:
                return f"{path}/{key}: {'missing in' if key not in view else 'only in'} the view"
            found = data_difference(view[key], kustomize[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(view, list) and isinstance(kustomize, list):
        if len(view) != len(kustomize):
            return f"{path}: {len(view)} items, kustomize {len(kustomize)}"
        return next((d for i, (a, b) in enumerate(zip(view, kustomize)) if (d := data_difference(a, b, f"{path}[{i}]"))),
                    None)
    if isinstance(view, str) and isinstance(kustomize, str):
        return None if view.split() == kustomize.split() else f"{path}: {view[:60]!r}, kustomize {kustomize[:60]!r}"
    if isinstance(view, bool) or isinstance(kustomize, bool):
        return None if view is kustomize else f"{path}: {view!r}, kustomize {kustomize!r}"
    return None if view == kustomize else f"{path}: {view!r}, kustomize {kustomize!r}"


def test_every_corpus_kustomization_builds_to_what_kustomize_builds() -> None:
    """The differential test: every kustomization.yaml of the corpus that builds offline, object by object
    and field by field."""
    if not KUBECTL:
        pytest.skip("kubectl (with kustomize) is not installed")
    corpus = shared_path("corpus")
    agreed, refused, differing = 0, 0, []
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("_")):
        ctx = load_context(LintOptions(paths=["."], cwd=repo))
        kustomizer = Kustomizer(ctx.model.objects, ctx.files, repository_reader(repo))
        folders = sorted(kustomizer.kustomize_by_dir)
        with ThreadPoolExecutor(4) as pool:
            expected = list(pool.map(lambda folder: kustomize_data(repo / folder), folders))
        for folder, want in zip(folders, expected):
            if want is None:
                refused += 1  # remote bases, missing files: kustomize itself cannot build it here
                continue
            got = {_identity(r.data): r.data for r in finish(kustomizer.build(folder))}
            wanted = {_identity(data): data for data in want}
            if set(got) != set(wanted):
                differing.append((repo.name, folder, sorted(set(wanted) ^ set(got), key=str)[:4]))
                continue
            found = [(key, d) for key in sorted(wanted, key=str) if (d := data_difference(got[key], wanted[key]))]
            if found:
                differing.append((repo.name, folder, found[:2]))
            else:
                agreed += 1
    print(f"kustomize differential: {agreed} agreed, {len(differing)} differ, {refused} not buildable offline")
    assert agreed > 1500
    assert not differing, differing


def test_boolean_words_are_read_as_kustomize_reads_them(tmp_path: Path) -> None:
    """kustomize reads its own kustomization file with YAML 1.1's booleans (`disableNameSuffixHash: yes` is
    true) and every resource through kyaml, where `yes`, `on` and `Off` are strings."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": ("resources: [cm.yaml]\ngeneratorOptions:\n  disableNameSuffixHash: yes\n"
                                   "configMapGenerator:\n  - name: gen\n    literals: [a=b]\n"),
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: words}\ndata:\n  on: yes\n  n: Off\n",
    })
    expected = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "words"}, "data": {"on": "yes", "n": "Off"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gen"}, "data": {"a": "b"}}]
    built = built_data(tmp_path, "app")
    assert sorted((r.data for r in finish(built)), key=repr) == sorted(expected, key=repr)
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        assert sorted(yaml.safe_load_all(out.stdout), key=repr) == sorted(expected, key=repr)


NAME_REFERENCES = {
    "app/kustomization.yaml": ("resources: [release.yaml, repo.yaml]\nnamePrefix: prod-\n"
                               "configMapGenerator:\n  - name: vals\n    namespace: apps\n    literals: [a=c]\n"
                               "  - name: vals\n    namespace: other\n    literals: [a=b]\n"
                               "configurations: [config/names.yaml]\n"),
    "app/config/names.yaml": ("nameReference:\n  - kind: ConfigMap\n    version: v1\n    fieldSpecs:\n"
                              "      - {path: spec/valuesFrom/name, kind: HelmRelease}\n"
                              "  - kind: HelmRepository\n    fieldSpecs:\n"
                              "      - {path: spec/chart/spec/sourceRef/name, kind: HelmRelease}\n"),
    "app/release.yaml": ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\n"
                         "spec:\n  chart:\n    spec:\n      chart: web\n      sourceRef: {kind: HelmRepository, name: charts}\n"
                         "  valuesFrom:\n    - {kind: ConfigMap, name: vals}\n    - {kind: Secret, name: vals}\n"),
    "app/repo.yaml": ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
                      "metadata: {name: charts, namespace: apps}\nspec: {url: https://charts.example.com}\n"),
}


def test_configured_name_references_follow_renames_as_kustomize_does(tmp_path: Path) -> None:
    """`configurations:` nameReference entries, applied after the prefix and the content hash: a release's
    sourceRef and valuesFrom get the new names of objects in its own namespace, whatever `kind:` stands
    beside the name (the Secret entry too, as kustomize does)."""
    write_tree(tmp_path, NAME_REFERENCES)
    built = [r.data for r in finish(built_data(tmp_path, "app"))]
    release = next(d for d in built if d["kind"] == "HelmRelease")
    assert release["spec"]["chart"]["spec"]["sourceRef"]["name"] == "prod-charts"
    assert [v["name"] for v in release["spec"]["valuesFrom"]] == ["prod-vals-8f2d5hh62d"] * 2
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        assert sorted(yaml.safe_load_all(out.stdout), key=repr) == sorted(built, key=repr)
    # A referrer in a namespace no renamed object is in keeps its names.
    write_tree(tmp_path, {"app/release.yaml": NAME_REFERENCES["app/release.yaml"].replace("namespace: apps}",
                                                                                          "namespace: web}")})
    built = [r.data for r in finish(built_data(tmp_path, "app"))]
    release = next(d for d in built if d["kind"] == "HelmRelease")
    assert release["spec"]["chart"]["spec"]["sourceRef"]["name"] == "charts"
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        assert sorted(yaml.safe_load_all(out.stdout), key=repr) == sorted(built, key=repr)


def test_name_reference_entries_apply_in_kustomizes_order_of_kinds(tmp_path: Path) -> None:
    """A ConfigMap and a Secret generated under one name, both declared for one field: kustomize takes the
    ConfigMap's entry first (it orders entries by group, version and kind), whatever the file's order."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": ("resources: [release.yaml]\nconfigMapGenerator:\n  - name: vals\n"
                                   "    literals: [a=b]\nsecretGenerator:\n  - name: vals\n    literals: [a=c]\n"
                                   "configurations: [names.yaml]\n"),
        "app/names.yaml": ("nameReference:\n"
                           "  - {kind: Secret, version: v1, fieldSpecs: [{path: spec/valuesFrom/name, kind: HelmRelease}]}\n"
                           "  - {kind: ConfigMap, version: v1, fieldSpecs: [{path: spec/valuesFrom/name, kind: HelmRelease}]}\n"),
        "app/release.yaml": ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\n"
                             "spec:\n  valuesFrom:\n    - {kind: ConfigMap, name: vals}\n    - {kind: Secret, name: vals}\n"),
    })
    built = [r.data for r in finish(built_data(tmp_path, "app"))]
    release = next(d for d in built if d["kind"] == "HelmRelease")
    configmap = next(d for d in built if d["kind"] == "ConfigMap")
    assert [v["name"] for v in release["spec"]["valuesFrom"]] == [configmap["metadata"]["name"]] * 2
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        by_kind = {d["kind"]: d for d in yaml.safe_load_all(out.stdout)}
        assert by_kind == {d["kind"]: d for d in built}


_REPO = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {{name: {name}, namespace: ns}}\n"
         "spec: {{url: https://charts.example.com}}\n")
_RELEASE = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: ns}}\n"
            "spec:\n  chart:\n    spec:\n      chart: web\n      sourceRef: {{kind: HelmRepository, name: {source}}}\n")
_REPO_NAMES = ("nameReference:\n  - kind: HelmRepository\n    fieldSpecs:\n"
               "      - {path: spec/chart/spec/sourceRef/name, kind: HelmRelease}\n")


@pytest.mark.parametrize("layout", ["former-name", "two-prefixes"])
def test_name_references_follow_every_name_and_the_referrers_prefix(tmp_path: Path, layout: str) -> None:
    """A reference may hold a name a lower level gave the object (b-charts becomes a-b-charts); where two
    objects had the name, the one with the referrer's prefix is meant (one-web -> one-charts)."""
    if layout == "former-name":
        files = {"app/kustomization.yaml": "namePrefix: a-\nresources: [base, release.yaml]\nconfigurations: [nr.yaml]\n",
                 "app/nr.yaml": _REPO_NAMES, "app/release.yaml": _RELEASE.format(source="b-charts"),
                 "app/base/kustomization.yaml": "namePrefix: b-\nresources: [repo.yaml]\n",
                 "app/base/repo.yaml": _REPO.format(name="charts")}
        expected = {"a-web": "a-b-charts"}
    else:
        files = {"app/kustomization.yaml": "resources: [one, two]\nconfigurations: [nr.yaml]\n", "app/nr.yaml": _REPO_NAMES}
        for prefix in ("one", "two"):
            files[f"app/{prefix}/kustomization.yaml"] = f"namePrefix: {prefix}-\nresources: [repo.yaml, release.yaml]\n"
            files[f"app/{prefix}/repo.yaml"] = _REPO.format(name="charts")
            files[f"app/{prefix}/release.yaml"] = _RELEASE.format(source="charts")
        expected = {"one-web": "one-charts", "two-web": "two-charts"}
    write_tree(tmp_path, files)
    built = [r.data for r in finish(built_data(tmp_path, "app"))]
    sources = {d["metadata"]["name"]: d["spec"]["chart"]["spec"]["sourceRef"]["name"]
               for d in built if d["kind"] == "HelmRelease"}
    assert sources == expected
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        assert {d["metadata"]["name"]: d["spec"]["chart"]["spec"]["sourceRef"]["name"]
                for d in yaml.safe_load_all(out.stdout) if d["kind"] == "HelmRelease"} == expected


@pytest.mark.parametrize(("files", "folder", "name"), [
    ({"app/kustomization.yaml": "resources: [base]\nconfigMapGenerator:\n  - name: vals\n    behavior: merge\n"
                                "    literals: [b=2]\n",
      "app/base/kustomization.yaml": "namePrefix: b-\nconfigMapGenerator:\n  - name: vals\n    literals: [a=1]\n"},
     "app", "b-vals-7gdc49gk6d"),  # the name as written finds what a base's prefix renamed
    ({"base/kustomization.yaml": "configMapGenerator:\n  - name: cfg\n    literals: [a=1]\n",
      "mid/kustomization.yaml": "namePrefix: p-\nresources: [../base]\n",
      "top/kustomization.yaml": "resources: [../mid]\nconfigMapGenerator:\n  - name: p-cfg\n    behavior: merge\n"
                                "    literals: [b=2]\n"},
     "top", "p-cfg-7gdc49gk6d"),  # so does a name a lower level gave
], ids=["written-name", "given-name"])
def test_a_merge_generator_finds_what_a_prefix_renamed(tmp_path: Path, files: dict, folder: str, name: str) -> None:
    write_tree(tmp_path, files)
    built = [r.data for r in finish(built_data(tmp_path, folder))]
    assert built == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1", "b": "2"}}]
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / folder)], capture_output=True, text=True,
                             check=True)
        assert list(yaml.safe_load_all(out.stdout)) == built


def test_a_prefix_that_holds_the_name_still_tells_the_referrers_object(tmp_path: Path) -> None:
    files = {"app/kustomization.yaml": "resources: [mycharts, two]\nconfigurations: [nr.yaml]\n", "app/nr.yaml": _REPO_NAMES}
    for prefix in ("mycharts", "two"):
        files[f"app/{prefix}/kustomization.yaml"] = f"namePrefix: {prefix}-\nresources: [repo.yaml, release.yaml]\n"
        files[f"app/{prefix}/repo.yaml"] = _REPO.format(name="charts")
        files[f"app/{prefix}/release.yaml"] = _RELEASE.format(source="charts")
    write_tree(tmp_path, files)
    built = [r.data for r in finish(built_data(tmp_path, "app"))]
    assert {d["metadata"]["name"]: d["spec"]["chart"]["spec"]["sourceRef"]["name"]
            for d in built if d["kind"] == "HelmRelease"} == {"mycharts-web": "mycharts-charts", "two-web": "two-charts"}


#: Kustomization bodies: (body, [(path, strict_only), ...] that `decode` reports). kubectl kustomize refuses
#: a body with any problem and builds one without.
DECODED = [
    ("namePrefix: p-\n", []),
    ("NamePrefix: p-\nRESOURCES: [cm.yaml]\n", []),  # Go's decoder matches field names whatever their case
    ("namespace: null\nimages: [{name: x, newTag: '1.10'}]\nreplicas: [{name: web, count: 2.0}]\n", []),
    ("foo: bar\n", [(("foo",), True)]),
    ("labels:\n- pairs: {a: b}\n  includeSelector: true\n", [(("labels", 0, "includeSelector"), True)]),
    ("namePrefix: [a]\n", [(("namePrefix",), False)]),
    ("namespace: yes\n", [(("namespace",), True)]),
    ("images:\n- name: x\n  newTag: 1.10\n", [(("images", 0, "newTag"), True)]),
    ("configMapGenerator:\n- literals: [a=b]\n", [(("configMapGenerator", 0), False)]),
    ("configMapGenerator:\n- name: 5\n  literals: [a=b]\n", [(("configMapGenerator", 0, "name"), False)]),
    ("configMapGenerator:\n- name: x\n  literals: a=b\n", [(("configMapGenerator", 0, "literals"), False)]),
    ("secretGenerator:\n- name: x\n  type: 5\n  literals: [a=b]\n", [(("secretGenerator", 0, "type"), True)]),
    ("generatorOptions: {disableNameSuffixHash: 'yes'}\n", [(("generatorOptions", "disableNameSuffixHash"), False)]),
    ("patches:\n- path: cm.yaml\n  target: {kind: ConfigMap, nam: x}\n", [(("patches", 0, "target", "nam"), True)]),
    ("patches:\n- path: cm.yaml\n  target: {kind: ConfigMap, name: 5}\n", [(("patches", 0, "target", "name"), False)]),
    ("replicas:\n- name: web\n  count: '3'\n", [(("replicas", 0, "count"), False)]),
    ("commonLabels: {a: [b]}\n", [(("commonLabels", "a"), False)]),
    ("configMapGenerator:\n-\n", [(("configMapGenerator", 0), False)]),  # an empty entry has no name either
    # the keys reach Go's decoder sorted: `name` comes after `NAME`, and its null changes nothing
    ("configMapGenerator:\n- NAME: foo\n  name:\n  literals: [a=b]\n", []),
    ("configMapGenerator:\n- name: foo\n  Name: ''\n  literals: [a=b]\n", []),
    ("commonLabels:\n  ~: a\n", [(("commonLabels", None), False)]),
    ("namePrefix: 1e400\n", []),  # too big for a float: go-yaml keeps it as text
    ("replicas:\n- name: web\n  count: 1e20\n", [(("replicas", 0, "count"), False)]),
]


@pytest.mark.parametrize("body, expected", DECODED)
def test_kustomization_files_are_decoded_as_kustomize_decodes_them(tmp_path: Path, body: str, expected: list) -> None:
    from gitops_lint.view.kustomization_file import decode
    from gitops_lint.yaml.loader import GO_YAML_V2, load_text

    data = load_text(body, "kustomization.yaml", reader=GO_YAML_V2).documents[0].data
    assert [(p.path, p.strict_only) for p in decode(data)] == expected
    if KUBECTL:
        write_tree(tmp_path, {"kustomization.yaml": "resources: [cm.yaml]\n" + body if "RESOURCES" not in body
                              else body, "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
                              "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"})
        assert (kustomize(tmp_path) is None) == bool(expected), "kubectl kustomize disagrees"


def test_a_flux_kustomizations_own_file_is_read_leniently_and_its_bases_strictly(tmp_path: Path) -> None:
    """Flux rewrites the kustomization file at a Kustomization's path with sigs.k8s.io/yaml before kustomize
    reads it: an unknown key there is dropped, a number turned into its string. A base it includes is read
    by kustomize as written, and fails on the same lines."""
    import json

    from click.testing import CliRunner

    from gitops_lint.cli import main
    from tests.test_flux_view import BOOTSTRAP, flux_ks

    body = "namespace: 5\nfoo: bar\nconfigMapGenerator:\n- name: settings\n  literals: [a=b]\n  behaviour: merge\n"
    write_tree(tmp_path, {
        "clusters/my-cluster/flux-system/gotk-sync.yaml": BOOTSTRAP,
        "clusters/my-cluster/apps.yaml": flux_ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources: [base]\n" + body.replace("settings", "top-settings"),
        "apps/base/kustomization.yaml": body,
    })
    result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "json", str(tmp_path)])
    found = sorted((d["path"], d["line"], d["column"]) for d in json.loads(result.stdout)["diagnostics"]
                   if d["rule"] == "REF012")
    # the base: namespace's number, the unknown key, and the generator's unknown key (at the key)
    assert found == [("apps/base/kustomization.yaml", 1, 12), ("apps/base/kustomization.yaml", 2, 1),
                     ("apps/base/kustomization.yaml", 6, 3)]
    messages = [d["message"] for d in json.loads(result.stdout)["diagnostics"] if d["rule"] == "REF012"]
    assert any("did you mean 'behavior'" in m for m in messages)
    assert all("Flux fails Kustomization/flux-system/apps" in m for m in messages)


def _kustomization_like():
    """Data shaped like kustomization files, written right and wrong: known and unknown keys, any scalar."""
    from hypothesis import strategies as st

    from gitops_lint.view.kustomization_file import KUSTOMIZATION

    keys = st.sampled_from([*KUSTOMIZATION.fields, "name", "literals", "target", "kind", "count", "pairs", "Name",
                            "foo"]) | st.integers() | st.booleans()
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)

    def nested(inner):
        return st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4)

    return st.recursive(scalars, nested, max_leaves=25)


def test_decoding_never_fails_and_points_into_the_data() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gitops_lint.view.kustomization_file import decode
    from gitops_lint.yaml.positions import value_at

    @settings(max_examples=300, deadline=None)
    @given(st.dictionaries(st.sampled_from(["resources", "configMapGenerator", "patches", "labels", "images",
                                            "replacements", "foo", "Namespace"]), _kustomization_like(), max_size=5))
    def run(data: dict) -> None:
        for problem in decode(data):
            parent = value_at(data, problem.path[:-1])
            assert isinstance(parent, (dict, list)) and (problem.path[-1] in parent if isinstance(parent, dict)
                                                         else problem.path[-1] < len(parent))
            assert problem.message

    run()


#: A base generating ConfigMap `cfg` in namespace apps (the entry's own namespace, or the base's `namespace:`),
#: and overlays adding generators; None where kubectl kustomize refuses the overlay.
GENERATOR_BASES = {
    "own": "configMapGenerator:\n- name: cfg\n  namespace: apps\n  literals: [a=1]\n",
    "kustomization": "namespace: apps\nconfigMapGenerator:\n- name: cfg\n  literals: [a=1]\n",
}


@pytest.mark.parametrize("base, overlay, refused", [
    ("kustomization", "namespace: apps\nconfigMapGenerator:\n- {name: cfg, behavior: merge, literals: [b=2]}\n", False),
    ("kustomization", "configMapGenerator:\n- {name: cfg, behavior: merge, literals: [b=2]}\n", False),
    ("own", "configMapGenerator:\n- {name: cfg, namespace: apps, behavior: replace, literals: [b=2]}\n", False),
    ("own", "configMapGenerator:\n- {name: cfg, behavior: merge, literals: [b=2]}\n", True),  # generated in apps
    ("own", "configMapGenerator:\n- {name: cfg, namespace: other, behavior: merge, literals: [b=2]}\n", True),
    ("own", "configMapGenerator:\n- {name: missing, behavior: merge, literals: [b=2]}\n", True),
    ("kustomization", "configMapGenerator:\n- {name: cfg, literals: [b=2]}\n", True),  # create: it exists
    ("own", "configMapGenerator:\n- {name: cfg, literals: [b=2]}\n", False),  # create: another namespace
    ("own", "namePrefix: p-\nconfigMapGenerator:\n- {name: cfg, namespace: apps, behavior: merge, literals: [b=2]}\n",
     False),
])
def test_generators_merge_and_create_as_kustomize_allows(tmp_path: Path, base: str, overlay: str, refused: bool) -> None:
    write_tree(tmp_path, {"base/kustomization.yaml": GENERATOR_BASES[base],
                          "overlay/kustomization.yaml": "resources: [../base]\n" + overlay})
    built = assert_refused_as_kubectl(tmp_path, "overlay", refused)
    if not refused and "behavior" in overlay:  # merged into the one object
        assert len(built.resources) == 1 and "b" in built.resources[0].data["data"]


def test_join_path_normalises_as_posixpath_does() -> None:
    """An entry relative to a (normal) folder: what posixpath.normpath makes of it, or None when it climbs
    above the root on the way. The shortcut for plain paths and the walk agree."""
    import posixpath

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gitops_lint.view.kustomize import join_path

    names = st.sampled_from(["a", "b", ".x", "x.yaml"])
    folders = st.lists(names, max_size=3).map("/".join)
    entries = st.lists(st.sampled_from(["a", "b", ".", "..", "", ".x", "x.yaml"]), max_size=5).map("/".join)

    @settings(max_examples=500, deadline=None)
    @given(folders, entries)
    def run(folder: str, entry: str) -> None:
        depth, climbs = len([p for p in folder.split("/") if p]), False
        for part in entry.split("/"):
            if part == "..":
                depth -= 1
                climbs = climbs or depth < 0
            elif part not in ("", "."):
                depth += 1
        expected = None if climbs else posixpath.normpath(f"/{folder}/{entry}").lstrip("/")
        assert join_path(folder, entry) == expected

    run()


@pytest.mark.parametrize("config, refused", [
    ("nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - {path: spec/valuesFrom/name, kind: HelmRelease, create: yes}\n",
     False),  # read as go-yaml v2 reads it: yes is true
    ("nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - {path: 5, kind: HelmRelease}\n", False),  # made a string
    ("nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - {path: spec/valuesFrom/name, crate: true}\n", True),
    ("nameReference:\n- kind: ConfigMap\n  fieldSpecs: spec/valuesFrom/name\n", True),
    ("nameReference: ConfigMap\n", True),
    ("commonLabels:\n- path: metadata/labels\n  create: true\n", False),
    ("- nameReference\n", True),  # a list, no TransformerConfig
    ("just text\n", True),
    ("---\n---\nvarReference: 5\n", False),  # go-yaml reads the first document only, here an empty one
])
def test_configurations_files_are_read_as_kustomize_reads_them(tmp_path: Path, config: str, refused: bool) -> None:
    write_tree(tmp_path, {"app/kustomization.yaml": "resources: [cm.yaml]\nconfigurations: [kc.yaml]\n",
                          "app/kc.yaml": config,
                          "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    assert_refused_as_kubectl(tmp_path, "app", refused)


def test_a_folder_whose_kustomization_file_is_no_mapping_says_so(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/kustomization.yaml": "resources: [../base, ../empty]\n",
                          "base/kustomization.yaml": "- cm.yaml\n", "empty/kustomization.yaml": "# nothing yet\n"})
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    built = Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path)).build("app")
    assert sorted(p.message for p in built.problems) == [
        "base/kustomization.yaml is no mapping of kustomize settings: kustomize refuses the build",
        "empty/kustomization.yaml is empty: kustomize refuses the build"]


def test_name_reference_entries_of_kinds_kustomize_ranks_first_apply_first(tmp_path: Path) -> None:
    """kustomize orders nameReference entries by its rank of kinds (ConfigMap among the first) before group,
    version and kind: a ConfigMap's entry goes before a custom kind's that sorts earlier by name."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": ("resources: [release.yaml, ../thing]\n"
                                   "configMapGenerator:\n  - name: vals\n    literals: [a=b]\nconfigurations: [names.yaml]\n"),
        "thing/kustomization.yaml": "namePrefix: t-\nresources: [thing.yaml]\n",
        "app/names.yaml": ("nameReference:\n"
                           "  - {kind: Thing, group: example.com, fieldSpecs: [{path: spec/valuesFrom/name, kind: HelmRelease}]}\n"
                           "  - {kind: ConfigMap, version: v1, fieldSpecs: [{path: spec/valuesFrom/name, kind: HelmRelease}]}\n"),
        "thing/thing.yaml": "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: vals}\n",
        "app/release.yaml": ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\n"
                             "spec:\n  valuesFrom:\n    - {kind: ConfigMap, name: vals}\n"),
    })
    built = [r.data for r in finish(built_data(tmp_path, "app"))]
    release = next(d for d in built if d["kind"] == "HelmRelease")
    configmap = next(d for d in built if d["kind"] == "ConfigMap")
    assert release["spec"]["valuesFrom"][0]["name"] == configmap["metadata"]["name"]
    if KUBECTL:
        out = subprocess.run([KUBECTL, "kustomize", str(tmp_path / "app")], capture_output=True, text=True,
                             check=True)
        assert {d["kind"]: d for d in yaml.safe_load_all(out.stdout)} == {d["kind"]: d for d in built}


#: (files under the test folder, whether kubectl kustomize refuses `app`): generators with components,
#: patches that rename or move what they merge into, other versions of a kind (found by review).
GENERATOR_LAYOUTS = [
    ({"app/kustomization.yaml": "components: [../comp]\nconfigMapGenerator:\n- {name: x, literals: [a=1]}\n",
      "comp/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                  "configMapGenerator:\n- {name: x, behavior: merge, literals: [b=2]}\n")},
     False),  # the folder's own generators run before its components
    ({"app/kustomization.yaml": "components: [../comp]\nconfigMapGenerator:\n- {name: x, behavior: merge, literals: [a=1]}\n",
      "comp/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                  "configMapGenerator:\n- {name: x, literals: [b=2]}\n")},
     True),
    ({"app/kustomization.yaml": "resources: [../mid]\nconfigMapGenerator:\n- {name: x, namespace: team, behavior: merge, literals: [b=2]}\n",
      "mid/kustomization.yaml": "components: [../comp]\nconfigMapGenerator:\n- {name: x, literals: [a=1]}\n",
      "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamespace: team\n"},
     False),
    ({"app/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- {name: x, namespace: one, behavior: merge, literals: [b=2]}\n",
      "base/kustomization.yaml": ("resources: [cm.yaml]\npatches:\n- target: {kind: ConfigMap, name: x}\n  patch: |\n"
                                  "    - {op: replace, path: /metadata/namespace, value: two}\n"),
      "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: one}\ndata: {a: '1'}\n"},
     False),  # a patch that moves an object leaves its former namespace to match
    ({"app/kustomization.yaml": "resources: [../mid]\nconfigMapGenerator:\n- {name: p-x, behavior: merge, literals: [c=1]}\n",
      "mid/kustomization.yaml": ("resources: [../base]\npatches:\n- target: {kind: ConfigMap, name: p-x}\n  patch: |\n"
                                 "    - {op: replace, path: /metadata/name, value: y}\n"),
      "base/kustomization.yaml": "namePrefix: p-\nconfigMapGenerator:\n- {name: x, literals: [a=1]}\n"},
     False),  # and one that renames it, its former name
    ({"app/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n- {name: x, literals: [a=1]}\n",
      "app/cm.yaml": "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: x}\n"},
     False),  # another version is another object
    ({"app/kustomization.yaml": "resources: [../one, ../two]\n",
      "one/kustomization.yaml": "configMapGenerator:\n- {name: x, literals: [a=1]}\n",
      "two/kustomization.yaml": "configMapGenerator:\n- {name: x, literals: [a=2]}\n"},
     True),  # two siblings generate one id: kustomize adds it once
    ({"app/kustomization.yaml": "resources: [../one, cm.yaml]\n",
      "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
      "one/kustomization.yaml": "configMapGenerator:\n- {name: x, literals: [a=1]}\n"},
     True),  # or a generated one and a manifest
    ({"app/kustomization.yaml": "resources: [../one, ../two]\n",
      "one/kustomization.yaml": "configMapGenerator:\n- {name: x, literals: [a=1]}\n",
      "two/kustomization.yaml": "namespace: other\nconfigMapGenerator:\n- {name: x, literals: [a=2]}\n"},
     False),  # in two namespaces they are two objects
    ({"app/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- {name: p-x, behavior: merge, literals: [b=2]}\n",
      "base/kustomization.yaml": "namespace: team\nnamePrefix: p-\nconfigMapGenerator:\n- {name: x, literals: [a=1]}\n"},
     True),  # p-x was never in `default`: names and namespaces are matched together, as the ids they were
    ({"app/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- {name: app-settings, literals: [x=y]}\n",
      "base/kustomization.yaml": "resources: [cm.yaml]\nnamespace: app\nnamePrefix: app-\n",
      "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"},
     False),  # nor app-settings in `default`
    ({"app/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- {name: settings, literals: [x=y]}\n",
      "base/kustomization.yaml": ("resources: [cm.yaml]\nreplacements:\n"
                                  "- source: {kind: ConfigMap, name: settings, fieldPath: data.newname}\n"
                                  "  targets:\n  - select: {kind: ConfigMap, name: settings}\n"
                                  "    fieldPaths: [metadata.name]\n"),
      "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {newname: app-settings}\n"},
     False),  # a replacement keeps no previous id
]


@pytest.mark.parametrize("files, refused", GENERATOR_LAYOUTS)
def test_generators_with_components_patches_and_versions(tmp_path: Path, files: dict, refused: bool) -> None:
    write_tree(tmp_path, files)
    assert_refused_as_kubectl(tmp_path, "app", refused)


def test_one_clash_is_one_problem_and_odd_values_are_no_crash(tmp_path: Path) -> None:
    """A generator clashing with a base's object is reported once, also when a component is accumulated
    after it; keys `1` and `"1"` beside a generator's name, a list as apiVersion beside a generator, end no
    run (found by review)."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- {name: cfg, literals: [x=y]}\n"
                                  "components: [../comp]\n",
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n",
        "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {x: z}\n",
        "odd/kustomization.yaml": "resources: [odd.yaml, sub]\nconfigMapGenerator:\n- {name: a, NAME: b, 1: x, '1': y}\n",
        "odd/odd.yaml": "apiVersion: [v1]\nkind: ConfigMap\nmetadata: {name: x}\n",
        "odd/sub/kustomization.yaml": "configMapGenerator:\n- {name: g, literals: [a=b]}\n",
    })
    ctx = load_context(LintOptions(paths=["."], cwd=tmp_path))
    kustomizer = Kustomizer(ctx.model.objects, ctx.files, repository_reader(tmp_path))
    assert len([p for p in kustomizer.build("app").problems if p.fatal]) == 1
    kustomizer.build("odd")


@pytest.mark.parametrize("listed, refused", [
    ("resources: [../base]\ncomponents: [../comp]\n", False),
    ("resources: [../base, ../comp]\n", True),  # a Component as a resource: expected kind != 'Component'
    ("resources: [../base]\ncomponents: [../other]\n", True),  # a Kustomization as a component
])
def test_components_and_resources_are_told_apart_by_kind(tmp_path: Path, listed: str, refused: bool) -> None:
    write_tree(tmp_path, {
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: x-\n",
        "other/kustomization.yaml": "namePrefix: y-\n",
        "app/kustomization.yaml": listed,
    })
    built = assert_refused_as_kubectl(tmp_path, "app", refused)
    if refused:
        assert any("Component" in p.message for p in built.problems), [p.message for p in built.problems]


def test_typed_lists_and_empty_documents_read_as_kustomize_reads_them(tmp_path: Path) -> None:
    """Any `<Kind>List` with `items` is its items (queued after the file's other documents), null items
    are none, and documents that are `{}` or `[]` are dropped: no build failure."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": "resources: [lists.yaml, empty.yaml]\n",
        "app/lists.yaml": ("apiVersion: v1\nkind: ConfigMapList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
                           "  metadata: {name: from-list}\n---\napiVersion: v1\nkind: List\nitems:\n---\n"
                           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n"),
        "app/empty.yaml": "{}\n---\n[]\n",
    })
    built = assert_refused_as_kubectl(tmp_path, "app", False)
    assert [r.name for r in built.resources] == ["plain", "from-list"]
    check(tmp_path, "app", [("", "ConfigMap", None, "from-list"), ("", "ConfigMap", None, "plain")])


def test_helm_charts_in_a_kustomization_fail_a_flux_build(tmp_path: Path) -> None:
    """kustomize inflates `helmCharts` only with --enable-helm, which Flux never passes (nor does a plain
    `kubectl kustomize`, the oracle here)."""
    write_tree(tmp_path, {
        "app/kustomization.yaml": "resources: [cm.yaml]\nhelmCharts:\n  - name: podinfo\n    repo: "
                                  "https://stefanprodan.github.io/podinfo\n    version: 6.5.0\n    releaseName: podinfo\n",
        "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    })
    built = assert_refused_as_kubectl(tmp_path, "app", True)
    assert any("--enable-helm" in p.message for p in built.problems)
