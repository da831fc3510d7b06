"""Where tenants are provisioned: `local` (state under $FSP_HOME, one process serves them all) and, later,
`kubernetes` (Pulumi programs in infra/)."""

TARGETS = ("local", "kubernetes")


class TargetError(Exception):
    """The target cannot do what was asked; the message says why and what to do."""


class NotProvisionedError(TargetError):
    """The tenant has no state on this target."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"{slug} is not provisioned here: run `fsp up {slug}` first")
        self.slug = slug
