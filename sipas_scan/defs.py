"""Constants with units, in one place.

Lengths are millimetres measured from the top-left corner of an A4 page
unless the name says otherwise; font sizes are points.
"""

from __future__ import annotations

MM_PER_INCH = 25.4
PT_PER_MM = 72 / MM_PER_INCH

PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0

# Fiducial markers: ArUco 4x4 dictionary, ids 0..3 clockwise from top-left,
# so the ids alone tell a page's orientation.
ARUCO_DICTIONARY = "DICT_4X4_50"
MARKER_IDS = (0, 1, 2, 3)  # top-left, top-right, bottom-right, bottom-left
MARKER_SIZE_MM = 10.0
# Scanners crop a few millimetres off the edge; keep markers well inside.
MARKER_MARGIN_MM = 8.0

# The QR code with the signed page code, top right, beside the marker.
QR_SIZE_MM = 20.0
QR_X_MM = PAGE_WIDTH_MM - MARKER_MARGIN_MM - MARKER_SIZE_MM - 5.0 - QR_SIZE_MM
QR_Y_MM = 6.0
QR_ERROR_LEVEL = "Q"  # survives ~25 % damage: dust, pen strokes, folds

# Content area between the header band and the footer.
CONTENT_LEFT_MM = 15.0
CONTENT_RIGHT_MM = PAGE_WIDTH_MM - 15.0
CONTENT_TOP_MM = 31.0
CONTENT_BOTTOM_MM = PAGE_HEIGHT_MM - 22.0
HEADER_TEXT_X_MM = MARKER_MARGIN_MM + MARKER_SIZE_MM + 4.0
FOOTER_BASELINE_MM = PAGE_HEIGHT_MM - 10.5
# The per-form lines of the header: printed by printing/render.py, read back
# by reading/printed.py when a page's code cannot be read.
HEADER_SERIAL_BASELINE_MM = 18.0  # "Số phiếu: 0000018"
HEADER_SERIAL_SIZE_PT = 11.0  # bold
HEADER_PLACE_BASELINE_MM = 23.5  # "Thôn ... · Xã ... · Huyện ... · Tỉnh"
# Header and footer text stays clear of the markers.
FOOTER_LEFT_MM = MARKER_MARGIN_MM + MARKER_SIZE_MM + 4.0
FOOTER_RIGHT_MM = PAGE_WIDTH_MM - MARKER_MARGIN_MM - MARKER_SIZE_MM - 4.0

# Checkboxes: big enough for a pen tick, far enough apart that a sloppy mark
# in one box does not reach the next.
BOX_SIZE_MM = 5.0
BOX_LINE_WIDTH_PT = 0.9
BOX_LABEL_GAP_MM = 1.8
OPTION_ROW_GAP_MM = 2.6
OPTION_COLUMN_GAP_MM = 4.0

# Grids (many rows sharing one scale).
GRID_MIN_ROW_HEIGHT_MM = 8.0
GRID_CELL_PADDING_MM = 1.2
GRID_LINE_WIDTH_PT = 0.35
GRID_LINE_GREY = 0.55

# Handwritten comment boxes.
TEXT_LINE_PITCH_MM = 8.0
TEXT_BOX_LINE_WIDTH_PT = 0.8
TEXT_RULE_GREY = 0.7

# Typography.
FONT_SIZE_BODY_PT = 9.5
FONT_SIZE_SMALL_PT = 7.5
FONT_SIZE_HEADING_PT = 11.0
FONT_SIZE_TITLE_PT = 13.0
FONT_SIZE_HEADER_PT = 9.0
LEADING_FACTOR = 1.25
PARAGRAPH_GAP_MM = 1.6
QUESTION_GAP_MM = 4.0
SECTION_GAP_MM = 5.0

# Signed page codes.
CODE_PREFIX = "SIPAS1"  # the code of forms printed before the compact one (still read)
COMPACT_CODE_PREFIX = "S2"  # QR alphanumeric mode: capitals, digits, " $%*+-./:"
SIGNATURE_BYTES = 10  # 80 bits of HMAC-SHA256, base32: 16 characters
MIN_SECRET_LENGTH = 16
SECRET_ENV_VAR = "SIPAS_SECRET"

# Serials: six digits and a Luhn check digit, so a serial typed by hand
# (e.g. from a page whose QR is torn) can be checked.
SERIAL_DIGITS = 6

# Reading: every page is warped onto the layout at this resolution, so all
# measurements are in one pixel grid (8 px/mm = 203 dpi).
READ_PX_PER_MM = 8.0
MARKER_DETECT_MAX_SIDE_PX = 1800  # markers are looked for on a page scaled down to this
MARKER_WINDOW_MM = 50.0  # corner windows searched first: marker, margin and a generous feed shift
PAPER_PERCENTILE = 90  # the paper's grey level: this percentile of a page's pixels (the lighter ones)
MARKER_UPSCALE_BELOW_PX = 500  # corner windows narrower than this (scans under 250 dpi) are searched again scaled up
MARKER_EDGE_PAD_PX = 24  # paper added round an image for the marker search: a marker cell's width at 300 dpi
MAX_ALIGNMENT_RESIDUAL_MM = 0.8  # worse than this, the page is flagged, not guessed
BOX_SEARCH_MM = 1.0  # how far a printed box may sit from where the layout says
