"""The review app's routes, one Flask blueprint per area: ``auth`` (login,
logout, language), ``queue`` (the overview and the items to decide),
``pages`` (stored pages and their crops), ``qc`` (blind re-entry) and
``log`` (the decision log and reopening, for supervisors). Views are thin:
they check who is asking, call queue/actions/qc/overview and render."""

from flask import Blueprint

from sipas_scan.review.views import auth, log, pages, qc, queue

BLUEPRINTS: tuple[Blueprint, ...] = (auth.blueprint, queue.blueprint, pages.blueprint, qc.blueprint, log.blueprint)
