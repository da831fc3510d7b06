"""Entry point the Pulumi CLI runs for `--policy-pack infra/policies`: serves the pack until stopped."""
from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
