"""Data exchange: provinces ship their outbox in signed, sequenced batches; the ministry stores them once each.

Province: `worker` reads unshipped outbox events, signs each batch with the tenant's Ed25519 exchange key and
POSTs it to the hub. Ministry: `api` verifies the signature against the registered peer key and `service` stores
the events in the national table, idempotently, behind a per-province cursor.
"""
