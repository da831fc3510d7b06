"""The public portal of one tenant: server-rendered pages in Chinese beside its registry API, in one process.

It reads through the registry's services with the tenant's own engine; the registry never imports it.
"""
