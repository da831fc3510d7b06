"""`fsp`: the control-plane CLI that provisions and watches the tenants of the funeral-service platform."""
