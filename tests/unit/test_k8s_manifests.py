"""The KubeRay manifests parse, and their worker groups can serve the documented render pools."""

import json

import pytest
import yaml

from c2v.core.tiers import Tier
from cluster.pools import EXAMPLE_POOLS, POOLS_ENV, RenderPools
from cluster.runtime import infeasible
from tests.conftest import ROOT

K8S = ROOT / "k8s"


def documents(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def cluster_spec(name: str) -> dict:
    for doc in documents(name):
        if doc["kind"] == "RayCluster":
            return doc["spec"]
        if doc["kind"] == "RayJob":
            return doc["spec"]["rayClusterSpec"]
    raise AssertionError(f"{name} has no RayCluster or RayJob")


def as_node(group: dict) -> dict:
    """The Ray node a group's pods become, from its rayStartParams (KubeRay's quoted JSON)."""
    params = group["rayStartParams"]
    resources = {"CPU": float(params.get("num-cpus", 0)), "GPU": float(params.get("num-gpus", 0))}
    if "resources" in params:
        resources.update(json.loads(json.loads(params["resources"])))
    # KubeRay starts Ray with the container's memory limit as its ``memory`` resource.
    limit = str(group["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"])
    resources["memory"] = float(limit.removesuffix("Gi")) * 1024**3
    return {"Alive": True, "Resources": resources}


@pytest.mark.parametrize("name", ["raycluster.yaml", "rayjob.yaml"])
def test_every_tier_of_the_example_pools_fits_one_group(name):
    spec = cluster_spec(name)
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    groups = {g["groupName"]: g for g in spec["workerGroupSpecs"]}
    assert set(groups) == {"render-cpu", "render-gpu"}
    pools = RenderPools.parse(EXAMPLE_POOLS, "example")
    nodes = [as_node(g) for g in groups.values()]
    for tier in Tier:
        assert infeasible(pools.for_tier(tier).demand(), nodes) is None, tier
    # Each custom resource is offered by exactly the group meant for it.
    assert infeasible(pools.l.demand(), [as_node(groups["render-cpu"])]) is None
    assert infeasible(pools.k.demand(), [as_node(groups["render-gpu"])]) is None
    assert infeasible(pools.k.demand(), [as_node(groups["render-cpu"])]) is not None
    gpu = groups["render-gpu"]
    (container,) = gpu["template"]["spec"]["containers"]
    limit = container["resources"]["limits"]["nvidia.com/gpu"]
    assert int(limit) == int(gpu["rayStartParams"]["num-gpus"]) == 1


def test_the_rayjob_runs_a_batch_with_the_matching_pools_and_secret_env():
    (job,) = [d for d in documents("rayjob.yaml") if d["kind"] == "RayJob"]
    entry = " ".join(job["spec"]["entrypoint"].split())
    assert entry.startswith("c2v batch /config/topics.json --api gemini --video_quality k")
    (head,) = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in head["env"]}
    pools = RenderPools.parse(env[POOLS_ENV]["value"], "rayjob.yaml")
    assert pools == RenderPools.parse(EXAMPLE_POOLS, "example")
    assert env["GEMINI_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "c2v-llm"
    assert head["envFrom"] == [{"secretRef": {"name": "c2v-s3"}}]
    # Secrets only on the driver's pod: workers never get them.
    for group in job["spec"]["rayClusterSpec"]["workerGroupSpecs"]:
        (worker,) = group["template"]["spec"]["containers"]
        assert "envFrom" not in worker and all("valueFrom" not in e for e in worker.get("env", []))
    (topics,) = [d for d in documents("rayjob.yaml") if d["kind"] == "ConfigMap"]
    assert len(json.loads(topics["data"]["topics.json"])) >= 1
