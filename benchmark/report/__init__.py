"""``benchmark report``: a static HTML report of every run (leaderboard, per-image scores,
image viewer) that opens from disk without a server or network.

:mod:`~benchmark.report.data` gathers the runs into plain dicts,
:mod:`~benchmark.report.thumbs` makes thumbnails, :mod:`~benchmark.report.html` writes the
page (CSS and script in ``static/``), :mod:`~benchmark.report.build` puts it together.
"""
