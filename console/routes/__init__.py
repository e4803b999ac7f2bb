"""Each module `console/routes/<name>.py` exposes `routes = web.RouteTableDef()`."""
ROUTE_MODULES = (
    "login",
    "dashboard",
    "review",
    "pool",
    "matching",
    "appointments",
    "workshops",
    "notifications",
    "audit",
    "batches",
    "staff",
)
