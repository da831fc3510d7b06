"""Fleet monitoring: Prometheus configuration per tenant and for the ministry, rules, dashboards, local processes,
and the fleet status read from the ministry Prometheus."""
