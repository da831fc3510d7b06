"""Data exchange: provinces ship their outbox in signed, sequenced batches; the ministry stores each event once.

Province: `outbound` reads unshipped outbox events and builds canonical batch bodies, `shipper` signs them with
the tenant's exchange key (SM2; Ed25519 before the switch) (`signing`) and POSTs them to the hub. Ministry: `api` verifies the signature
against the registered peer key and `service` stores the events in the national table behind a per-province
cursor. `processes` runs either side as its own process (`python -m registry.exchange ...`).
"""
