"""Every manifest in k8s/ against what a cluster checks: KubeRay v1.7.0's CRD schemas
(../shared/kuberay-crds/, read in place) and the built-in kinds' schemas (kubernetes-validate)."""

import copy
import functools
import importlib

import jsonschema
import kubernetes_validate
import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from c2v.core.tiers import Tier
from cluster.pools import EXAMPLE_POOLS, RenderPools
from cluster.runtime import infeasible
from tests.conftest import ROOT
from tests.unit.test_k8s_manifests import as_node

K8S = ROOT / "k8s"
CRDS = ROOT.parent / "shared" / "kuberay-crds"
K8S_VERSION = "1.32.0"


@functools.cache
def crd_schema(kind: str) -> dict:
    for path in CRDS.glob("ray.io_*.yaml"):
        crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if crd["spec"]["names"]["kind"] == kind:
            (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
            return v1["schema"]["openAPIV3Schema"]
    raise AssertionError(f"no CRD for {kind} in {CRDS}")


def validate(doc: dict) -> None:
    if doc["apiVersion"].startswith("ray.io/"):
        jsonschema.validate(doc, crd_schema(doc["kind"]), cls=jsonschema.Draft7Validator)
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _documents():
    for path in sorted(K8S.glob("*.yaml")):
        for n, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                yield pytest.param(doc, id=f"{path.name}#{n}-{doc['kind']}")


def test_the_crds_are_there_and_no_manifest_says_replace_me():
    assert {p.name for p in CRDS.glob("*.yaml")} >= {"ray.io_rayservices.yaml", "ray.io_rayclusters.yaml"}
    for path in [*K8S.iterdir(), ROOT / "README.md"]:
        assert "REPLACE_ME" not in path.read_text(), path


@pytest.mark.parametrize("doc", list(_documents()))
def test_every_manifest_is_valid_for_its_schema(doc):
    validate(doc)


def _service() -> dict:
    (doc,) = [
        d
        for d in yaml.safe_load_all((K8S / "rayservice.yaml").read_text())
        if d and d["kind"] == "RayService"
    ]
    return doc


def test_a_broken_manifest_is_caught():
    bad = copy.deepcopy(_service())
    bad["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["replicas"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    typo = copy.deepcopy(_service())
    typo["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": typo["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"],
            },
            K8S_VERSION,
            strict=True,
        )


def test_the_rayservice_runs_our_serve_app_on_the_render_groups_with_secrets():
    spec = _service()["spec"]
    serve = ServeDeploySchema.model_validate(yaml.safe_load(spec["serveConfigV2"]))
    (app,) = serve.applications
    module, name = app.import_path.split(":")
    assert callable(getattr(importlib.import_module(module), name))
    cluster = spec["rayClusterConfig"]
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    assert set(groups) == {"render-cpu", "render-gpu"}
    pools = RenderPools.parse(EXAMPLE_POOLS, "example")
    nodes = [as_node(g) for g in groups.values()]
    assert all(infeasible(pools.for_tier(t).demand(), nodes) is None for t in Tier)
    pods = [cluster["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in groups.values()]
    for pod in pods:
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["C2V_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "c2v-db"
        assert "value" not in env["C2V_DATABASE_URL"]
        assert container["envFrom"] == [{"secretRef": {"name": "c2v-llm", "optional": True}}]
        assert container["image"] == "c2v-runtime:0.1.0"
        assert not any("KEY" in name and "value" in e for name, e in env.items())
