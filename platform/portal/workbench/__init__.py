"""The staff workbench (工作台): the registry's work as pages, for people signed in through the tenant's issuer.

Every action goes through the registry's own API, in process, with the person's token: the same validation,
the same Chinese messages, the same authorization and audit as for any API client, and nothing written twice.
"""
