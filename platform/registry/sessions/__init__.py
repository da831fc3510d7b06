"""Sign-in sessions of the workbench (staff) and of the portal's 我的办事 (citizens): kept in the tenant's database
so every replica knows them and a sign-out ends them everywhere."""
