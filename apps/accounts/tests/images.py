"""Image files for upload tests, made in memory."""

from __future__ import annotations

import io
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_upload(
    name: str = "me.png", image_format: str = "PNG", size: tuple[int, int] = (64, 48), **save_kw
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format=image_format, **save_kw)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{image_format.lower()}")


def jpeg_with_exif_upload() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0131] = "secret-software"  # Software
    return image_upload("holiday.jpg", "JPEG", exif=exif.tobytes())


def png_bomb_upload(width: int = 30_000, height: int = 30_000) -> SimpleUploadedFile:
    """A valid PNG header claiming a huge canvas, with a tiny compressed body.

    Decoding it would need gigabytes; the header alone must get it refused.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    # One row of zeros, compressed: small, but far from the claimed size.
    pixels = zlib.compress(b"\x00" * (width + 1), 9)
    data = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("bomb.png", data, content_type="image/png")
