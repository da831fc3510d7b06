"""The Pulumi programs: one stack per tenant (TenantStack for a province, MinistryStack for the ministry)."""
