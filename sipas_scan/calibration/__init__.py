"""Scanner calibration: a sheet to print and scan, the measurements taken
from its scan, and the scanner profile that adjusts the reader's thresholds.

    sheet.py    where everything is on the sheet (one model for print and measure)
    render.py   the sheet as a PDF
    measure.py  pure measurements on a scanned sheet
    profile.py  ScannerProfile: verdict, JSON, thresholds for the reader
    calibrate.py  file in, profile saved: the ``calibrate read`` story
"""
