"""A second opinion on the Kubernetes manifests the Pulumi programs render: checkov's Kubernetes checks find
nothing but the exceptions justified in infra/checkov-exceptions.yaml, and every exception there is still needed."""
import json
import subprocess
import sys
from pathlib import Path

import yaml

from fsp_k8s_stacks import planned
from infra.manifests import kubernetes_manifests

EXCEPTIONS = Path(__file__).resolve().parents[2] / "infra" / "checkov-exceptions.yaml"
# a province's stack and the ministry's (which adds the fleet's monitoring and the exchange hub)
STACKS = ("beijing", "ministry")


def _checkov(directory: Path) -> dict:
    # --skip-download: the rules ship with the package; nothing is fetched (and no network is reached)
    result = subprocess.run([str(Path(sys.executable).with_name("checkov")), "-d", str(directory), "--framework",
                             "kubernetes", "-o", "json", "--quiet", "--skip-download"],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return json.loads(result.stdout)


def test_checkov_finds_nothing_but_the_justified_exceptions(tmp_path):
    for slug in STACKS:
        (tmp_path / f"{slug}.yaml").write_text(yaml.safe_dump_all(kubernetes_manifests(planned(slug)["resources"])))
    report = _checkov(tmp_path)
    exceptions = yaml.safe_load(EXCEPTIONS.read_text())

    failed = {(f["check_id"], f["resource"]) for f in report["results"]["failed_checks"]}
    assert report["summary"]["passed"] > 100 and report["summary"]["parsing_errors"] == 0
    assert {check for check, _ in failed} - exceptions.keys() == set(), sorted(failed)
    assert exceptions.keys() - {check for check, _ in failed} == set(), "exceptions no longer needed: remove them"
    for check, entry in exceptions.items():
        assert len(entry["justification"].split()) >= 20, f"{check}: say why it is acceptable"


def test_manifests_keep_integers_and_masked_secrets():
    manifests = kubernetes_manifests(planned("beijing")["resources"])
    deployment = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "registry")
    assert deployment["apiVersion"] == "apps/v1" and deployment["spec"]["template"]["spec"]["securityContext"][
        "runAsUser"] == 10001
    assert all(m["apiVersion"] == "v1" for m in manifests if m["kind"] in ("Secret", "Service", "Namespace"))
    secrets = [m for m in manifests if m["kind"] == "Secret"]
    assert secrets and "never-in-clear" not in yaml.safe_dump_all(manifests)
