#!/usr/bin/env python3
"""A small COLMAP model written by pycolmap in both forms, for the `--poses FOLDER` reader:
Tests/Fixtures/colmap/bin/*.bin (what COLMAP and the official exporter write) and
Tests/Fixtures/colmap/txt/*.txt (the same model as text). Three images, view0.png ... view2.png, on
PINHOLE, SIMPLE_RADIAL and OPENCV cameras, each observing a few 3D points.
"""

import os

import numpy as np
import pycolmap

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "colmap"))


def main() -> None:
    rec = pycolmap.Reconstruction()
    models = [("PINHOLE", [61.0, 62.5, 41.0, 36.0]), ("SIMPLE_RADIAL", [70.0, 42.0, 35.5, 0.01]),
              ("OPENCV", [80.0, 81.0, 49.0, 42.0, 0.01, -0.002, 0.0005, 0.0003])]
    sizes = [(84, 70), (84, 70), (98, 84)]
    pids = [rec.add_point3D(np.array([x, y, 4.0 + x]), pycolmap.Track(), np.array([200, 100, 50], np.uint8))
            for x in (-0.5, 0.0, 0.5) for y in (-0.3, 0.3)]
    for i, ((model, params), (w, h)) in enumerate(zip(models, sizes)):
        cam = pycolmap.Camera(model=model, width=w, height=h, params=params, camera_id=i + 1)
        rec.add_camera(cam)
        rig = pycolmap.Rig(rig_id=i + 1)
        rig.add_ref_sensor(cam.sensor_id)
        rec.add_rig(rig)
        a = 0.2 * i
        R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        pose = pycolmap.Rigid3d(pycolmap.Rotation3d(R), np.array([0.3 * i, -0.1, 0.2 * i]))
        frame = pycolmap.Frame(frame_id=i + 1, rig_id=i + 1)
        frame.rig_from_world = pose
        image = pycolmap.Image(name=f"view{i}.png", camera_id=i + 1, image_id=i + 1)
        image.frame_id = i + 1
        frame.add_data_id(image.data_id)
        image.points2D = pycolmap.Point2DList([pycolmap.Point2D(np.array([10.0 + j, 20.0]), pid) for j, pid in enumerate(pids)])
        rec.add_frame(frame)
        rec.add_image(image)
        rec.register_frame(i + 1)
    for sub, write in (("bin", rec.write_binary), ("txt", rec.write_text)):
        os.makedirs(os.path.join(OUT, sub), exist_ok=True)
        write(os.path.join(OUT, sub))
    print(rec.summary())


if __name__ == "__main__":
    main()
