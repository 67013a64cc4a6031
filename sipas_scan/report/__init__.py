"""The SIPAS report: one content model, rendered as PDF (ReportLab) and HTML."""
