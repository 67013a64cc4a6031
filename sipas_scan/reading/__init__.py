"""Reading scanned returns: sources -> identify -> register -> marks and
comments -> pages -> forms. Image functions are pure; the pipeline module
runs them in worker processes and hands results to the single writer."""
