//! Integration tests: monitor_run.
