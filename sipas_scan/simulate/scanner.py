"""What an office scanner does to a page: pure functions on numpy images.

Input pages are RGB uint8 (H, W, 3) rasters of A4 at ``dpi``; output is RGB
(colour mode), greyscale uint8 (H, W) or bilevel uint8 0/255 (bw mode, a
fixed threshold), the same size. Parameters are drawn once per page from a
ScannerProfile into a ScanSettings record, so a page's degradation can be
reported and replayed; dirt on the glass (drum lines) belongs to the
scanner, not the page, and is drawn once per stack with ``draw_drum_lines``.

The order follows the paper through the machine: the sheet (its tint, ink
spreading into it) is fed crookedly (geometry), lit unevenly (lighting, the
shadow along each fold), read by a sensor that fades in streaks and has dirt
on its glass (drum lines), through optics (blur), with noise, dust, and a
fixed threshold in black-and-white mode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from sipas_scan.simulate.profiles import ScannerProfile

FADE_STREAKS = (1, 3)  # how many light streaks a faded page shows
FADE_STREAK_WIDTH = (0.04, 0.25)  # streak width (1/e half-width) / page width
DRUM_LINES = (1, 3)
DRUM_LINE_WIDTH_MM = (0.1, 0.35)
DRUM_LINE_DARKNESS = (0.35, 0.85)  # share of the light a line blocks
FOLD_SHADOW_MM = (2.5, 7.0)  # 1/e half-width of the soft band along a fold
FOLDS = {"thirds": (1 / 3, 2 / 3), "half": (1 / 2,)}  # fold lines, as a share of the page height
CURL_ZONE_MM = (25.0, 70.0)  # how far in from its edge a curled sheet leaves the glass
CURL_SHADE = 0.25  # brightness lost where the curled edge stands highest, per 10 mm of lift
CURL_DEFOCUS = 0.03  # blur (sigma, mm) per mm the paper stands off the glass: a flatbed's focus is shallow


@dataclass(frozen=True)
class DrumLine:
    """A thin dark line down the whole page, along the feed direction, where
    dirt sits on the scanner glass or drum."""

    x_frac: float  # across the page, 0..1
    width_mm: float
    darkness: float  # share of the light it blocks


@dataclass(frozen=True)
class FadeStreak:
    """A band down the page where toner or lamp was weak: everything in it,
    print and marks, comes out lighter."""

    x_frac: float  # centre across the page, 0..1
    width_frac: float  # 1/e half-width / page width
    depth: float  # share of the darkness taken away at its centre


@dataclass(frozen=True)
class Curl:
    """An edge of the sheet standing off the glass (a page that curled in
    its envelope, or along the fold next to the edge). Towards that edge the
    paper runs up away from the glass, so its print comes out drawn
    together (the paper's length shows shorter), out of focus and in
    shadow. The lift grows with the square of the distance into the zone."""

    edge: int  # of the scanned image: 0 top, 1 right, 2 bottom, 3 left
    zone_mm: float  # how far in from the edge the paper leaves the glass
    lift_mm: float  # how high the edge stands


@dataclass(frozen=True)
class ScanSettings:
    dpi: int
    mode: str  # colour | gray | bw
    rotation_deg: float
    perspective_px: tuple[tuple[float, float], ...]  # corner offsets, 4 x (dx, dy)
    shift_px: tuple[float, float]
    blur_sigma_px: float
    noise_sigma: float
    jpeg_quality: int
    lighting_amplitude: float  # brightness lost across the page, 0..1
    lighting_direction: float  # angle of the ramp, radians
    shadow_edge: int  # -1 none, else 0 top, 1 right, 2 bottom, 3 left
    dust_specks: int
    paper_tint: float
    bw_threshold: int
    upside_down: bool = False
    ink_spread_px: int = 0  # dark strokes grow by this many pixels across
    fade: tuple[FadeStreak, ...] = ()
    folds: tuple[float, ...] = ()  # fold lines, as a share of the page height
    fold_shadow: float = 0.0  # brightness lost at the middle of a fold's band
    fold_width_mm: float = 5.0
    drum_lines: tuple[DrumLine, ...] = ()
    curl: Curl | None = None


def draw_settings(profile: ScannerProfile, dpi: int, mode: str, rng: np.random.Generator) -> ScanSettings:
    px_per_mm = dpi / 25.4
    corners = tuple(
        (
            float(rng.uniform(-1, 1) * profile.max_perspective_mm * px_per_mm),
            float(rng.uniform(-1, 1) * profile.max_perspective_mm * px_per_mm),
        )
        for _ in range(4)
    )
    settings = ScanSettings(
        dpi=dpi,
        mode=mode,
        rotation_deg=float(rng.uniform(-1, 1) * profile.max_rotation_deg),
        perspective_px=corners,
        shift_px=(
            float(rng.uniform(-1, 1) * profile.max_shift_mm * px_per_mm),
            float(rng.uniform(-1, 1) * profile.max_shift_mm * px_per_mm),
        ),
        blur_sigma_px=float(rng.uniform(*profile.blur_sigma_px)),
        noise_sigma=float(rng.uniform(*profile.noise_sigma)),
        jpeg_quality=int(rng.integers(profile.jpeg_quality[0], profile.jpeg_quality[1] + 1)),
        lighting_amplitude=float(rng.uniform(0, profile.lighting_amplitude)),
        lighting_direction=float(rng.uniform(0, 2 * np.pi)),
        shadow_edge=int(rng.integers(4)) if rng.random() < profile.shadow_edge_rate else -1,
        dust_specks=int(rng.integers(profile.dust_specks[0], profile.dust_specks[1] + 1)),
        paper_tint=float(rng.uniform(0, profile.paper_tint)),
        bw_threshold=int(rng.integers(profile.bw_threshold[0], profile.bw_threshold[1] + 1)),
    )
    # Drawn after the older settings, so those stay what they were for a seed.
    spread = int(rng.integers(1, 3)) if rng.random() < profile.ink_spread_rate else 0
    fade: tuple[FadeStreak, ...] = ()
    if rng.random() < profile.fade_rate:
        fade = tuple(
            FadeStreak(
                float(rng.uniform(0, 1)), float(rng.uniform(*FADE_STREAK_WIDTH)), float(rng.uniform(0.3, 1.0) * profile.max_fade)
            )
            for _ in range(int(rng.integers(FADE_STREAKS[0], FADE_STREAKS[1] + 1)))
        )
    folds: tuple[float, ...] = ()
    if rng.random() < profile.fold_rate:
        folds = FOLDS["thirds"] if rng.random() < 0.6 else FOLDS["half"]
    curl = None
    # Drawn only where the profile curls pages: a profile that never does
    # keeps the very stacks it gave before curling was simulated.
    if profile.curl_rate > 0 and rng.random() < profile.curl_rate:
        curl = Curl(int(rng.integers(4)), float(rng.uniform(*CURL_ZONE_MM)), float(rng.uniform(0.3, 1.0) * profile.max_curl_lift_mm))
    return replace(
        settings,
        curl=curl,
        ink_spread_px=spread,
        fade=fade,
        folds=folds,
        fold_shadow=float(rng.uniform(0.4, 1.0) * profile.max_fold_shadow) if folds else 0.0,
        fold_width_mm=float(rng.uniform(*FOLD_SHADOW_MM)),
    )


def draw_drum_lines(profile: ScannerProfile, rng: np.random.Generator) -> tuple[DrumLine, ...]:
    """The dirt one scanner's glass carries through a whole stack: the same
    lines, in the same place, on every page it feeds."""
    if rng.random() >= profile.drum_line_rate:
        return ()
    return tuple(
        DrumLine(float(rng.uniform(0.03, 0.97)), float(rng.uniform(*DRUM_LINE_WIDTH_MM)), float(rng.uniform(*DRUM_LINE_DARKNESS)))
        for _ in range(int(rng.integers(DRUM_LINES[0], DRUM_LINES[1] + 1)))
    )


def _geometry(image: np.ndarray, s: ScanSettings, fill: tuple[int, ...]) -> np.ndarray:
    """Rotate, shift and slightly warp the page as it feeds crookedly."""
    h, w = image.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    centre = np.array([w / 2, h / 2], dtype=np.float32)
    angle = np.deg2rad(s.rotation_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=np.float32)
    shift = np.array(s.shift_px, dtype=np.float32)
    dst = (src - centre) @ rotation.T + centre + shift + np.array(s.perspective_px, dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def _curl(image: np.ndarray, curl: Curl, px_per_mm: float) -> np.ndarray:
    """What the scanner sees of a sheet whose edge ``curl.edge`` stands off
    the glass: the paper's height there is ``lift * (u / zone)**2`` at ``u``
    into the zone, so a stretch ``du`` of paper shows as ``du * cos(slope)``
    (the print drawn together towards the edge, the glass beyond the
    paper's end left white), lit less and blurred the higher it stands."""
    # Work along rows: turn the image so that the curled edge is the bottom.
    turns = (2 - curl.edge) % 4
    turned = np.rot90(image, turns)
    length = turned.shape[0]
    zone = min(curl.zone_mm * px_per_mm, length - 1.0)
    paper = np.arange(length, dtype=np.float64)  # position on the sheet, px
    into = np.clip(paper - (length - zone), 0.0, None) / zone
    slope = 2.0 * curl.lift_mm * into / curl.zone_mm
    shown = np.concatenate([[0.0], np.cumsum(1.0 / np.sqrt(1.0 + slope[:-1] ** 2))])  # where the scanner sees it
    # For each row of the scan (the same pixel grid as the paper's), the
    # paper it shows; -1 beyond the paper's end.
    source = np.interp(paper, shown, paper, right=-1.0).astype(np.float32)
    height = curl.lift_mm * np.interp(source, paper, into) ** 2
    height[source < 0] = curl.lift_mm
    map_y = np.repeat(source[:, None], turned.shape[1], axis=1)
    map_x = np.repeat(np.arange(turned.shape[1], dtype=np.float32)[None, :], length, axis=0)
    fill = (255,) * (turned.shape[2] if turned.ndim == 3 else 1)
    moved = cv2.remap(np.ascontiguousarray(turned), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    lifted = height > 0.05
    if lifted.any():
        first = int(np.argmax(lifted))
        band = moved[first:]
        sigma = CURL_DEFOCUS * curl.lift_mm * px_per_mm
        weight = (height[first:] / curl.lift_mm).astype(np.float32)
        if sigma > 0.3:
            blurred = cv2.GaussianBlur(band, (0, 0), sigma)
            w = weight[:, None, None] if band.ndim == 3 else weight[:, None]
            band = (band * (1 - w) + blurred * w).astype(np.float32)
        gain = 1.0 - CURL_SHADE * (height[first:] / 10.0)
        gain = gain[:, None, None] if band.ndim == 3 else gain[:, None]
        moved[first:] = np.clip(np.round(band * gain), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.rot90(moved, -turns))


def _lighting_gain(shape: tuple[int, int], s: ScanSettings) -> np.ndarray:
    """Brightness gain (H, W) float32: a ramp across the page, an optional
    shadow along one edge and a soft shadow along each fold of the sheet.
    Smooth, so it is computed small and scaled up."""
    h, w = shape
    small_h, small_w = max(2, h // 16), max(2, w // 16)
    amplitude, direction = s.lighting_amplitude, s.lighting_direction
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    ys, xs = ys * (h / small_h), xs * (w / small_w)
    ramp = (xs / w - 0.5) * np.cos(direction) + (ys / h - 0.5) * np.sin(direction)
    gain = 1.0 - amplitude * (ramp + 0.5)
    if s.shadow_edge >= 0:
        distance = [ys, w - 1 - xs, h - 1 - ys, xs][s.shadow_edge]
        gain *= 1.0 - 0.55 * np.exp(-distance / (0.03 * min(h, w)))
    if s.folds and s.fold_shadow > 0:
        gain *= _fold_gain(xs, ys, (h, w), s)
    return cv2.resize(gain.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _fold_gain(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, int], s: ScanSettings) -> np.ndarray:
    """The folds sit on the paper, so they turn and move with it: the
    distance of each scanner pixel from a fold is measured in the page's own
    frame (rotation and shift undone; the small perspective is ignored)."""
    h, w = shape
    if s.upside_down:  # the page went through turned round: so did its folds
        xs, ys = w - xs, h - ys
    angle = np.deg2rad(s.rotation_deg)
    across = -np.sin(angle) * (xs - w / 2 - s.shift_px[0]) + np.cos(angle) * (ys - h / 2 - s.shift_px[1])
    width_px = s.fold_width_mm * s.dpi / 25.4
    gain = np.ones_like(xs)
    for fold in s.folds:
        distance = across - (fold - 0.5) * h
        # A crease is lit from one side: the shadow leans a little to the other.
        band = np.exp(-(((distance - 0.3 * width_px) / width_px) ** 2))
        gain *= 1.0 - s.fold_shadow * band
    return gain


def _spread_ink(image: np.ndarray, pixels: int) -> np.ndarray:
    """Dark strokes grow by ``pixels`` across: ink soaking into the paper
    and the sensor's light bleeding into dark neighbours."""
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS if pixels > 1 else cv2.MORPH_RECT, (pixels + 1, pixels + 1))
    return cv2.erode(image, kernel)


def _fade(image: np.ndarray, streaks: tuple[FadeStreak, ...]) -> np.ndarray:
    """Lighten everything dark in bands down the page (the feed direction)."""
    w = image.shape[1]
    x = np.arange(w, dtype=np.float32) / w
    kept = np.ones(w, np.float32)
    for streak in streaks:
        kept *= 1.0 - streak.depth * np.exp(-(((x - streak.x_frac) / streak.width_frac) ** 2))
    # 255 - (255 - v) * kept, row by row, in uint16 to stay cheap.
    scale = np.round(kept * 256).astype(np.uint16)
    if image.ndim == 3:
        scale = scale[:, None]
    darkness = (255 - image).astype(np.uint16)
    darkness *= scale
    return (255 - (darkness >> 8)).astype(np.uint8)


def _drum_lines(image: np.ndarray, lines: tuple[DrumLine, ...], px_per_mm: float) -> None:
    """Darken thin full-height columns in place, with anti-aliased edges."""
    w = image.shape[1]
    for line in lines:
        left = line.x_frac * w
        right = left + max(1.0, line.width_mm * px_per_mm)
        for column in range(int(np.floor(left)), min(w, int(np.ceil(right)))):
            cover = min(right, column + 1) - max(left, column)
            kept = 1.0 - line.darkness * cover
            image[:, column] = (image[:, column].astype(np.float32) * kept).astype(np.uint8)


def _dust(image: np.ndarray, s: ScanSettings, rng: np.random.Generator) -> None:
    h, w = image.shape[:2]
    px_per_mm = s.dpi / 25.4
    for _ in range(s.dust_specks):
        x, y = int(rng.integers(w)), int(rng.integers(h))
        level = float(rng.uniform(30, 140))
        colour = (level,) * (3 if image.ndim == 3 else 1)
        if rng.random() < 0.8:
            cv2.circle(image, (x, y), max(1, int(rng.uniform(0.05, 0.25) * px_per_mm)), colour, -1)
        else:  # a hair
            length = rng.uniform(1, 6) * px_per_mm
            t = np.linspace(0, 1, 12)
            angle = rng.uniform(0, np.pi)
            bend = rng.normal(0, 0.2 * length)
            pts = np.stack(
                [
                    x + t * length * np.cos(angle) + bend * np.sin(np.pi * t) * -np.sin(angle),
                    y + t * length * np.sin(angle) + bend * np.sin(np.pi * t) * np.cos(angle),
                ],
                axis=1,
            )
            cv2.polylines(image, [pts.astype(np.int32).reshape(-1, 1, 2)], False, colour, 1, cv2.LINE_AA)


NOISE_TILE_PX = 512


def _noise(shape: tuple[int, ...], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise (int16, ``shape``): a random tile repeated across the page.
    A fresh normal sample per pixel costs more than the rest of the scan, and
    no reader (or eye) sees a 512-pixel period in noise of a few grey levels."""
    channels = shape[2:] if len(shape) == 3 else ()
    tile = np.round(rng.standard_normal((NOISE_TILE_PX, NOISE_TILE_PX, *channels), dtype=np.float32) * sigma)
    tile = np.roll(tile.astype(np.int16), tuple(rng.integers(NOISE_TILE_PX, size=2)), axis=(0, 1))
    reps = (-(-shape[0] // NOISE_TILE_PX), -(-shape[1] // NOISE_TILE_PX), *((1,) if channels else ()))
    return np.tile(tile, reps)[: shape[0], : shape[1]]


def scan(page_rgb: np.ndarray, s: ScanSettings, rng: np.random.Generator) -> np.ndarray:
    """Degrade one page as the scanner with settings ``s`` would.

    Kept in uint8 with saturating OpenCV arithmetic: a 300 dpi colour page
    is 26 million samples, and float copies of it cost more than the effects."""
    image: np.ndarray
    tint: tuple[float, ...]
    if s.mode == "colour":
        image = page_rgb
        tint = (1.0, 1.0 - 0.3 * s.paper_tint, 1.0 - s.paper_tint)
    else:
        # A grey scanner sees one channel: convert first, it is a third of the work.
        image = cv2.cvtColor(page_rgb, cv2.COLOR_RGB2GRAY)
        tint = (1.0 - 0.5 * s.paper_tint,)
    if s.paper_tint:
        # OpenCV takes a 4-tuple as a per-channel Scalar; its stubs only list arrays.
        image = cv2.multiply(image, tint + (1.0,) * (4 - len(tint)))  # type: ignore[call-overload]
    if s.ink_spread_px:
        image = _spread_ink(image, s.ink_spread_px)
    image = _geometry(image, s, fill=(255, 255, 255))
    if s.upside_down:
        image = cv2.rotate(image, cv2.ROTATE_180)
    if s.curl is not None:
        image = _curl(image, s.curl, s.dpi / 25.4)
    if s.lighting_amplitude > 0 or s.shadow_edge >= 0 or (s.folds and s.fold_shadow > 0):
        gain: np.ndarray = np.clip(np.round(_lighting_gain(image.shape[:2], s) * 255), 0, 255).astype(np.uint8)
        if image.ndim == 3:
            gain = cv2.merge([gain, gain, gain])
        image = cv2.multiply(image, gain, scale=1 / 255)
    if s.fade:
        image = _fade(image, s.fade)
    if s.drum_lines:  # the geometry made a new image: darkening it in place is safe
        _drum_lines(image, s.drum_lines, s.dpi / 25.4)
    if s.blur_sigma_px > 0.05:
        image = cv2.GaussianBlur(image, (0, 0), s.blur_sigma_px)
    noisy = s.noise_sigma > 0
    image = cv2.add(image, _noise(image.shape, s.noise_sigma, rng), dtype=cv2.CV_8U) if noisy else image.copy()
    _dust(image, s, rng)
    if s.mode == "bw":
        image = np.where(image >= s.bw_threshold, 255, 0).astype(np.uint8)
    return image


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """The JPEG artefacts a scanner's compression leaves (for lossless outputs)."""
    ok, data = cv2.imencode(".jpg", image if image.ndim == 2 else image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise RuntimeError("OpenCV could not decode the JPEG it had just encoded")
    return decoded if decoded.ndim == 2 else decoded[..., ::-1]
