"""AnalysisRun state machine, condition language and measurement providers.

How the pieces fit (the AnalysisRun controller shell only wires them up):

- `expr`: the expr-lang condition language of successCondition / failureCondition.
- `verdict`: one measurement's phase, a metric's phase from its counters and
  limits, the run's phase (Argo's EvaluateResult / assessMetricStatus /
  assessRunStatus).
- `plan`: pure `decide(run, now)` (which metrics are due) and
  `complete(run, plan, outcomes, now=...)` (new status, events, requeue instant),
  plus `ttl_expiry(run)`.
- `measure.reconcile_measurements(run, now=..., provider_for=..., kube=...)`:
  decide -> read secret args -> run providers concurrently -> complete.
- `providers/`: prometheus, web, job behind `providers.base.MetricProvider`;
  `providers.registry.new_provider(metric, ...)` picks one.
- `args`: `{{args.x}}` substitution and secret redaction. Building a run from
  templates and a Rollout's arguments is shared with the rollout controller,
  so it lives in `rollouts.api.runs`.
"""
