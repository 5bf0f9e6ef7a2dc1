"""The showcase's media, made here and served by the demo server itself (so the demo works
offline and the phone page never asks another host for anything).

Images are drawn by pure functions and encoded as PNG with ``zlib`` (no imaging library); the
audio clip is a WAV written with the standard ``wave`` module; the PDF is written object by
object. Only the video is a file shipped in the package, ``media/clip.mp4`` (three seconds,
made once with Debian's ffmpeg)::

    ffmpeg -f lavfi -i testsrc2=size=320x180:rate=15 -f lavfi -i sine=frequency=660 -t 3 \\
        -pix_fmt yuv420p -c:v libx264 -crf 38 -c:a aac -b:a 32k -movflags +faststart clip.mp4

:func:`media_files` is the catalogue (name to :class:`MediaFile`), built once on first use;
:func:`media_app` serves it at ``{base}/_demo_media/{name}`` (see :data:`MEDIA_PREFIX`).
"""

from __future__ import annotations

import functools
import io
import math
import struct
import wave
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

__all__ = [
    "MEDIA_PREFIX",
    "MediaFile",
    "Scene",
    "chime_wav",
    "landscape",
    "media_app",
    "media_files",
    "pdf_page",
    "png",
]

MEDIA_PREFIX = "/_demo_media"
"""Where the demo server serves :func:`media_files`."""

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One medium: its file name, content type and bytes."""

    name: str
    content_type: str
    body: bytes

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return len(self.body)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, pixel: Callable[[float, float], RGB]) -> bytes:
    """An RGB PNG of ``width`` x ``height`` whose colour at ``(u, v)`` (both in 0..1, from the
    top left) is ``pixel(u, v)``."""
    if width < 1 or height < 1:
        raise ValueError(f"a PNG needs at least 1x1 pixels, not {width}x{height}")
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        v = y / max(1, height - 1)
        for x in range(width):
            raw.extend(pixel(x / max(1, width - 1), v))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    t = min(1.0, max(0.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


@dataclass(frozen=True, slots=True)
class Scene:
    """A landscape: a sky gradient, a sun (or moon) and two rolling hills."""

    sky_top: RGB
    sky_bottom: RGB
    sun: RGB
    sun_at: tuple[float, float]
    far_hill: RGB
    near_hill: RGB
    waves: float = 2.0


def landscape(scene: Scene, aspect: float) -> Callable[[float, float], RGB]:
    """The pixel function of ``scene`` for an image ``aspect`` (width / height) wide."""
    sx, sy = scene.sun_at

    def pixel(u: float, v: float) -> RGB:
        near = 0.78 + 0.06 * math.sin(u * math.pi * scene.waves + 1.3)
        far = 0.62 + 0.08 * math.sin(u * math.pi * (scene.waves + 1.1) + 0.4)
        if v >= near:
            return _mix(scene.near_hill, (0, 0, 0), (v - near) * 0.8)
        if v >= far:
            return _mix(scene.far_hill, scene.near_hill, (v - far) * 2.5)
        distance = math.hypot((u - sx) * aspect, v - sy)
        if distance < 0.12:
            return scene.sun
        sky = _mix(scene.sky_top, scene.sky_bottom, v / far)
        return _mix(scene.sun, sky, 0.55 + (distance - 0.12) * 3) if distance < 0.27 else sky

    return pixel


SCENES = {
    "sunrise": Scene(
        (58, 76, 140), (250, 170, 110), (255, 236, 170), (0.7, 0.42), (120, 80, 110), (60, 50, 80)
    ),
    "sea": Scene(
        (90, 160, 230),
        (200, 230, 250),
        (255, 250, 220),
        (0.25, 0.25),
        (60, 120, 170),
        (20, 70, 120),
        5.0,
    ),
    "forest": Scene(
        (120, 190, 240),
        (225, 240, 230),
        (255, 245, 200),
        (0.8, 0.2),
        (80, 150, 90),
        (30, 100, 50),
        3.0,
    ),
    "night": Scene(
        (10, 16, 48), (60, 70, 130), (235, 235, 210), (0.3, 0.3), (40, 50, 90), (20, 25, 50)
    ),
}
"""The drawn scenes (card images, the carousel, thumbnails)."""


def chime_wav(seconds: float = 3.0, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV: a rising arpeggio (C, E, G, C), each note fading out."""
    notes = (523.25, 659.25, 783.99, 1046.5)
    total = int(seconds * rate)
    per_note = total // len(notes)
    samples = array("h")
    for i in range(total):
        note = min(i // per_note, len(notes) - 1)
        t = (i - note * per_note) / rate
        envelope = math.exp(-3.0 * t) * min(1.0, t * 200)
        samples.append(int(12_000 * envelope * math.sin(2 * math.pi * notes[note] * t)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def pdf_page(title: str, lines: list[str]) -> bytes:
    """A one-page PDF (A6) showing ``title`` and ``lines`` in Helvetica (ASCII text)."""

    def literal(text: str) -> str:
        ascii_text = text.encode("ascii", "replace").decode("ascii")
        return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = [f"BT /F1 16 Tf 24 370 Td ({literal(title)}) Tj ET"]
    text += [
        f"BT /F1 10 Tf 24 {340 - 16 * i} Td ({literal(line)}) Tj ET" for i, line in enumerate(lines)
    ]
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _image(name: str, width: int, height: int) -> MediaFile:
    return MediaFile(
        f"{name}.png" if width > 160 else f"{name}-thumb.png",
        "image/png",
        png(width, height, landscape(SCENES[name], width / height)),
    )


@functools.cache
def media_files() -> dict[str, MediaFile]:
    """Every medium the showcase sends, by file name (built on first use, then kept)."""
    found = [_image(name, 480, 270) for name in SCENES]
    found += [_image(name, 128, 72) for name in SCENES]
    found.append(MediaFile("chime.wav", "audio/wav", chime_wav()))
    found.append(
        MediaFile(
            "showcase.pdf",
            "application/pdf",
            pdf_page(
                "rcskit showcase",
                ["A file message: a PDF with a thumbnail.", "Made and served by rcskit demo."],
            ),
        )
    )
    clip = resources.files(__package__).joinpath("media", "clip.mp4").read_bytes()
    found.append(MediaFile("clip.mp4", "video/mp4", clip))
    return {medium.name: medium for medium in found}


def _serve(request: Request) -> Response:
    name = request.path_params["name"]
    medium = media_files().get(name)
    if medium is None:
        return PlainTextResponse(f"no demo medium named {name!r}", status_code=404)
    return Response(
        medium.body,
        media_type=medium.content_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )


def media_app() -> Starlette:
    """An ASGI app serving :func:`media_files` at ``/{name}`` (mount it at
    :data:`MEDIA_PREFIX`)."""
    return Starlette(routes=[Route("/{name}", _serve, methods=["GET", "HEAD"])])
