"""Reading scanned returns: sources -> identify -> register -> marks and
comments -> pages. Image functions are pure; the pipeline module runs them
in worker processes. Pages become forms in sipas_scan.assembly; the scan
command (sipas_scan.scan) stores them."""
