"""etl.runner: run workflows — pick a profile's runner, prepare and submit work, the local runner.

:func:`~etl.runner.select.runner_for` picks the runner of a profile: its Argo Server
(:mod:`etl.runner.argo_server`) or the local runner; :mod:`etl.runner.work` compiles the work
commands and submits them (after :func:`~etl.runner.preflight.preflight` on the local runner),
:mod:`etl.runner.app` sequences them per command, :mod:`etl.runner.following` follows a run to its
end, :mod:`etl.runner.catalog_reports` makes ``etl dataset plan | status``' reports;
:class:`~etl.runner.local.LocalRunner` runs a compiled Argo ``Workflow`` on this machine (the
``local`` profile's runner); :func:`~etl.runner.run_report.run_report` reads what a run did per
asset from its chunk storage, whichever runner ran it.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
