"""The DDAS uitwisselmodel v0.9 export (issue 5, item 4): ``signaalhub export ddas``.

``delivery`` folds the log into the period's signals and cases (pure), ``document`` assembles
the national document, ``validation`` checks it against the shipped schema,
``personal_details`` is the one place that reads personal data for it, ``config`` reads the
header from ``ddas.toml``, and ``export_ddas`` is the use case that runs them in order.
"""
