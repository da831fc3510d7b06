"""我的办事: the citizens' own area of the portal, under /my, after sign-in with the province's government-service
identity (brokered by the tenant's Keycloak realm) or, locally, a development sign-in."""
