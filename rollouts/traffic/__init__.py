"""Traffic routers (not yet built): one module per router behind one small interface, called by the canary reconcile.

Service selectors are not here: both strategies switch them through rollout/services.py.
"""
