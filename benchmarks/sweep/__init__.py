"""Sweeps of tasks x methods x seeds: suite definitions, the crash-safe resumable runner on local processes
or Ray, and the report.

Imports run one way: ``suites`` <- ``jobs`` (the :class:`~benchmarks.sweep.jobs.Job` and shared helpers)
<- ``results`` (the output directory's files), ``worker`` <- ``backends`` <- ``runner``;
``stats`` <- ``figures`` <- ``report``; ``cli`` and ``demo`` on top.
"""
