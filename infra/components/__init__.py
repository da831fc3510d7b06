"""Pulumi components of a tenant's stack, each a ComponentResource with its Kubernetes objects as children."""
