"""Staff sign-in sessions of the workbench: kept in the tenant's database so every replica knows them and a
sign-out ends them everywhere."""
