"""AnalysisRun state machine, condition language and measurement providers."""
