"""`fsp baseline check`: the tenant as provisioned, judged against GB/T 22239-2019 grade 3 and GB/T 39786-2021.

`controls` is the catalog (clause → checks), `checks_*` the checks (each returns a Finding), `runner` runs them and
keeps the last result per tenant, `report` renders JSON (machines, the ministry) and HTML (assessors, in Chinese).
"""
