"""Simulated returns with ground truth: respondents fill printed forms with
pen marks and handwriting, a scanner degrades them, stacks get shuffled, and
the truth of every answer and every deliberate anomaly is written down."""
