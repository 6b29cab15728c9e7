"""The API's routers, one per area; each route is thin and delegates to the service modules."""
