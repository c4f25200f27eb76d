"""Research tools: fanning jobs out (`execution`), comparing configs across seeds (`compare`),
reports and recordings (SPEC 11, issue 11)."""

from __future__ import annotations

from mmfast.research.execution import JobError, register_backend, run_jobs

__all__ = ["JobError", "register_backend", "run_jobs"]
