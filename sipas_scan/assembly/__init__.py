"""Pages -> forms: the stage between reading and the store.

``forms`` assembles stored page records into forms (pure); ``decisions`` is
the vocabulary of review decisions that assembly applies; ``derive`` runs the
assembly over a store (after a scan, after a review decision) through the
few store calls it names in ``FormsStore``, so this package never imports the
store: the store imports it.
"""
