"""Service selector management and (later) traffic routers."""
