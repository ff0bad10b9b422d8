#!/usr/bin/env python3
"""Tests/Fixtures/family/exif_focal35_28mm.jpg: the synthetic test image at 112 x 140 as a JPEG
carrying EXIF focal tags (FocalLength 4.25 mm, FocalLengthIn35mmFilm 28 mm), for `da3 depth
--metric` reading the focal length from EXIF. Needs Pillow.

  python3 tools/reference/make_exif_fixture.py
"""

import os
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synthetic  # noqa: E402


def main():
    out = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "family", "exif_focal35_28mm.jpg"))
    rgb = synthetic.image_rgb(112, 140)  # (H, W, 3) uint8
    image = Image.fromarray(rgb, "RGB")
    exif = Image.Exif()
    exif[0x010F] = "da3-test"                     # Make (IFD0)
    ifd = exif.get_ifd(0x8769)                    # Exif IFD
    ifd[0x920A] = 4.25                            # FocalLength (mm)
    ifd[0xA405] = 28                              # FocalLengthIn35mmFilm (mm)
    image.save(out, "JPEG", quality=95, exif=exif)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
