#!/usr/bin/env python3
"""Independent reader for the files `da3 images` writes (scene.npz, scene.glb, scene.ply, the COLMAP
model (binary or text), <stem>.depth.npy): parses each with its own small reader (Python standard library only;
numpy, trimesh and pycolmap are used in addition when installed), checks shapes and contents against each
other, and round-trips the COLMAP model (parse, write back as binary and as text, parse again, compare).

    python3 tools/scene/check_scene.py DIR [--npy STEM ...]

Checks (any failure: message on stderr, exit 1):
  npz     depth/conf (N,H,W) <f4, extrinsics (N,3,4) <f4 with orthonormal rotations, intrinsics
          (N,3,3) <f4 with last row 0 0 1, image (N,H,W,3) |u1; numpy.load agrees when numpy exists
  npy     each <stem>.depth.npy equals depth[i] of the npz
  ply     binary little-endian x y z red green blue; finite
  glb     glTF 2.0 binary; one POINTS primitive; one LINES primitive of 16 vertices per view (frusta);
          the points equal the PLY's points under one rigid map diag(1,-1,-1)·[R0|t0] plus a shift
  colmap  one PINHOLE camera per view (the npz intrinsics scaled to the camera size), one image per
          view (its quaternion and translation give the npz extrinsics), every 3D point observed by
          one 2D point whose reprojection lies within 1e-2 px; the binary and text round trips are
          lossless (a binary model is written back byte for byte)
Prints a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import array
import ast
import io
import json
import math
import os
import struct
import sys
import zipfile


def fail(msg: str) -> None:
    print(f"check_scene: {msg}", file=sys.stderr)
    sys.exit(1)


def read_npy(data: bytes):
    if data[:6] != b"\x93NUMPY":
        fail("not a .npy file")
    major = data[6]
    hlen = struct.unpack("<H" if major == 1 else "<I", data[8:10] if major == 1 else data[8:12])[0]
    start = 10 + hlen if major == 1 else 12 + hlen
    header = ast.literal_eval(data[(10 if major == 1 else 12):start].decode("latin1"))
    shape, descr = tuple(header["shape"]), header["descr"]
    if header["fortran_order"]:
        fail("fortran order")
    code = {"<f4": "f", "|u1": "B", "<i8": "q"}[descr]
    values = array.array(code)
    values.frombytes(data[start:])
    n = 1
    for s in shape:
        n *= s
    if len(values) != n:
        fail(f"npy holds {len(values)} values for shape {shape}")
    return descr, shape, values


def check_npz(path: str) -> dict:
    with zipfile.ZipFile(path) as z:
        arrays = {name[:-4]: read_npy(z.read(name)) for name in z.namelist()}
    expect = {"depth": "<f4", "conf": "<f4", "extrinsics": "<f4", "intrinsics": "<f4", "image": "|u1"}
    for k, d in expect.items():
        if k not in arrays or arrays[k][0] != d:
            fail(f"scene.npz: '{k}' missing or not {d}")
    n, h, w = arrays["depth"][1]
    shapes = {"conf": (n, h, w), "extrinsics": (n, 3, 4), "intrinsics": (n, 3, 3), "image": (n, h, w, 3)}
    for k, s in shapes.items():
        if arrays[k][1] != s:
            fail(f"scene.npz: '{k}' has shape {arrays[k][1]}, expected {s}")
    ext, ixt = arrays["extrinsics"][2], arrays["intrinsics"][2]
    for v in range(n):
        R = [[ext[v * 12 + r * 4 + c] for c in range(3)] for r in range(3)]
        for i in range(3):
            for j in range(3):
                dot = sum(R[i][k] * R[j][k] for k in range(3))
                if abs(dot - (1 if i == j else 0)) > 1e-3:
                    fail(f"scene.npz: view {v} rotation not orthonormal")
        if [ixt[v * 9 + 6], ixt[v * 9 + 7], ixt[v * 9 + 8]] != [0, 0, 1]:
            fail(f"scene.npz: view {v} intrinsics last row is not 0 0 1")
    if not all(math.isfinite(x) for x in arrays["depth"][2]):
        fail("scene.npz: non-finite depth")
    try:
        import numpy as np
        z = np.load(path)
        for k in expect:
            a = z[k]
            if a.shape != tuple(arrays[k][1]) or a.reshape(-1).tolist() != list(arrays[k][2]):
                fail(f"scene.npz: numpy reads '{k}' differently")
    except ImportError:
        pass
    return {k: (arrays[k][1], arrays[k][2]) for k in arrays}


def check_ply(path: str):
    data = open(path, "rb").read()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    if header[0] != "ply" or header[1] != "format binary_little_endian 1.0":
        fail("scene.ply: not binary little-endian PLY")
    count = int(next(l for l in header if l.startswith("element vertex")).split()[2])
    props = [l.split()[1:] for l in header if l.startswith("property")]
    if props != [["float", "x"], ["float", "y"], ["float", "z"], ["uchar", "red"], ["uchar", "green"], ["uchar", "blue"]]:
        fail(f"scene.ply: unexpected properties {props}")
    if len(data) - end != count * 15:
        fail("scene.ply: body size does not match the vertex count")
    pts = [struct.unpack_from("<3f3B", data, end + 15 * i) for i in range(count)]
    if not all(math.isfinite(c) for p in pts for c in p[:3]):
        fail("scene.ply: non-finite point")
    return pts


def check_glb(path: str, views: int):
    data = open(path, "rb").read()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2 or length != len(data):
        fail("scene.glb: bad header")
    jlen, jtype = struct.unpack_from("<II", data, 12)
    if jtype != 0x4E4F534A:
        fail("scene.glb: first chunk is not JSON")
    doc = json.loads(data[20:20 + jlen])
    blen, btype = struct.unpack_from("<II", data, 20 + jlen)
    if btype != 0x004E4942:
        fail("scene.glb: second chunk is not BIN")
    binary = data[28 + jlen:28 + jlen + blen]

    def accessor(i):
        a = doc["accessors"][i]
        bv = doc["bufferViews"][a["bufferView"]]
        off = bv.get("byteOffset", 0) + a.get("byteOffset", 0)
        comps = {"VEC3": 3, "VEC4": 4}[a["type"]]
        fmt = {5126: "f", 5121: "B"}[a["componentType"]]
        size = struct.calcsize(fmt) * comps * a["count"]
        return list(struct.unpack_from(f"<{comps * a['count']}{fmt}", binary, off)), a, size

    points, lines = None, []
    for mesh in doc["meshes"]:
        for prim in mesh["primitives"]:
            pos, acc, _ = accessor(prim["attributes"]["POSITION"])
            col, cacc, _ = accessor(prim["attributes"]["COLOR_0"])
            if cacc["count"] != acc["count"]:
                fail("scene.glb: colour and position counts differ")
            for k in range(3):
                vals = pos[k::3]
                if vals and (abs(min(vals) - acc["min"][k]) > 1e-6 * max(1, abs(acc["min"][k])) or
                             abs(max(vals) - acc["max"][k]) > 1e-6 * max(1, abs(acc["max"][k]))):
                    fail("scene.glb: accessor min/max do not match the data")
            if prim["mode"] == 0:
                points = pos
            elif prim["mode"] == 1:
                lines.append(pos)
    if points is None:
        fail("scene.glb: no POINTS primitive")
    if len(lines) != views or any(len(l) != 16 * 3 for l in lines):
        fail(f"scene.glb: expected {views} camera frusta of 8 segments, found {[len(l) // 6 for l in lines]}")
    try:
        import trimesh
        scene = trimesh.load(path)
        clouds = [g for g in scene.geometry.values() if isinstance(g, trimesh.PointCloud)]
        if len(clouds) != 1 or len(clouds[0].vertices) != len(points) // 3:
            fail("scene.glb: trimesh reads a different point cloud")
    except ImportError:
        pass
    return points, lines


# ---------------- COLMAP text model ----------------

CAMERA_MODELS = {0: ("SIMPLE_PINHOLE", 3), 1: ("PINHOLE", 4), 2: ("SIMPLE_RADIAL", 4), 3: ("RADIAL", 5),
                 4: ("OPENCV", 8), 5: ("OPENCV_FISHEYE", 8), 6: ("FULL_OPENCV", 12), 7: ("FOV", 5),
                 8: ("SIMPLE_RADIAL_FISHEYE", 4), 9: ("RADIAL_FISHEYE", 5), 10: ("THIN_PRISM_FISHEYE", 12),
                 11: ("RAD_TAN_THIN_PRISM_FISHEYE", 16)}


def parse_colmap(folder: str) -> dict:
    """The binary model (cameras.bin, images.bin, points3D.bin) where present, else the text one."""
    if os.path.exists(os.path.join(folder, "cameras.bin")):
        return parse_colmap_bin(folder)
    return parse_colmap_text(folder)


def parse_colmap_bin(folder: str) -> dict:
    def read(name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()

    def reader(data):
        pos = [0]

        def take(fmt):
            v = struct.unpack_from("<" + fmt, data, pos[0])
            pos[0] += struct.calcsize("<" + fmt)
            return v

        def name():
            end = data.index(b"\0", pos[0])
            s = data[pos[0]:end].decode()
            pos[0] = end + 1
            return s
        return take, name, pos

    cameras = {}
    take, _, pos = reader(read("cameras.bin"))
    for _ in range(take("Q")[0]):
        cid, mid, w, h = take("iiQQ")
        model, count = CAMERA_MODELS[mid]
        cameras[cid] = {"model": model, "width": w, "height": h, "params": list(take(f"{count}d"))}
    images = {}
    data = read("images.bin")
    take, name, pos = reader(data)
    for _ in range(take("Q")[0]):
        iid, = take("I")
        q, t = list(take("4d")), list(take("3d"))
        cam, = take("I")
        nm = name()
        pts = [take("ddq") for _ in range(take("Q")[0])]
        images[iid] = {"q": q, "t": t, "camera": cam, "name": nm, "points2D": [(x, y, p) for x, y, p in pts]}
    if pos[0] != len(data):
        fail("colmap: images.bin has trailing bytes")
    points = {}
    take, _, pos = reader(read("points3D.bin"))
    for _ in range(take("Q")[0]):
        pid, = take("Q")
        xyz, rgb, err = list(take("3d")), list(take("3B")), take("d")[0]
        track = [take("II") for _ in range(take("Q")[0])]
        points[pid] = {"xyz": xyz, "rgb": rgb, "error": err, "track": [(a, b) for a, b in track]}
    return {"cameras": cameras, "images": images, "points": points}


def write_colmap_bin(model: dict, folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    ids = {name: mid for mid, (name, _) in CAMERA_MODELS.items()}
    with open(os.path.join(folder, "cameras.bin"), "wb") as f:
        f.write(struct.pack("<Q", len(model["cameras"])))
        for cid, c in sorted(model["cameras"].items()):
            f.write(struct.pack("<iiQQ", cid, ids[c["model"]], c["width"], c["height"]))
            f.write(struct.pack(f"<{len(c['params'])}d", *c["params"]))
    with open(os.path.join(folder, "images.bin"), "wb") as f:
        f.write(struct.pack("<Q", len(model["images"])))
        for iid, im in sorted(model["images"].items()):
            f.write(struct.pack("<I4d3dI", iid, *im["q"], *im["t"], im["camera"]) + im["name"].encode() + b"\0")
            f.write(struct.pack("<Q", len(im["points2D"])))
            for x, y, p in im["points2D"]:
                f.write(struct.pack("<ddq", x, y, p))
    with open(os.path.join(folder, "points3D.bin"), "wb") as f:
        f.write(struct.pack("<Q", len(model["points"])))
        for pid, p in sorted(model["points"].items()):
            f.write(struct.pack("<Q3d3Bd", pid, *p["xyz"], *p["rgb"], p["error"]) + struct.pack("<Q", len(p["track"])))
            for a, b in p["track"]:
                f.write(struct.pack("<II", a, b))


def parse_colmap_text(folder: str) -> dict:
    def lines(name):
        with open(os.path.join(folder, name)) as f:
            return [l.rstrip("\n") for l in f if not l.startswith("#")]

    cameras = {}
    for l in lines("cameras.txt"):
        if not l.strip():
            continue
        p = l.split()
        cameras[int(p[0])] = {"model": p[1], "width": int(p[2]), "height": int(p[3]), "params": [float(x) for x in p[4:]]}
    images = {}
    il = lines("images.txt")
    for k in range(0, len(il) - 1, 2):
        p = il[k].split()
        pts = il[k + 1].split()
        images[int(p[0])] = {"q": [float(x) for x in p[1:5]], "t": [float(x) for x in p[5:8]], "camera": int(p[8]),
                             "name": p[9],
                             "points2D": [(float(pts[i]), float(pts[i + 1]), int(pts[i + 2])) for i in range(0, len(pts), 3)]}
    points = {}
    for l in lines("points3D.txt"):
        if not l.strip():
            continue
        p = l.split()
        tr = [int(x) for x in p[8:]]
        points[int(p[0])] = {"xyz": [float(x) for x in p[1:4]], "rgb": [int(x) for x in p[4:7]], "error": float(p[7]),
                             "track": [(tr[i], tr[i + 1]) for i in range(0, len(tr), 2)]}
    return {"cameras": cameras, "images": images, "points": points}


def write_colmap(model: dict, folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "cameras.txt"), "w") as f:
        for cid, c in sorted(model["cameras"].items()):
            f.write(f"{cid} {c['model']} {c['width']} {c['height']} {' '.join(repr(x) for x in c['params'])}\n")
    with open(os.path.join(folder, "images.txt"), "w") as f:
        for iid, im in sorted(model["images"].items()):
            f.write(f"{iid} {' '.join(repr(x) for x in im['q'] + im['t'])} {im['camera']} {im['name']}\n")
            f.write(" ".join(f"{x!r} {y!r} {p}" for x, y, p in im["points2D"]) + "\n")
    with open(os.path.join(folder, "points3D.txt"), "w") as f:
        for pid, p in sorted(model["points"].items()):
            tr = " ".join(f"{a} {b}" for a, b in p["track"])
            f.write(f"{pid} {' '.join(repr(x) for x in p['xyz'])} {' '.join(map(str, p['rgb']))} {p['error']!r} {tr}\n")


def quat_to_R(q):
    w, x, y, z = q
    return [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]


def check_colmap(folder: str, npz: dict) -> dict:
    model = parse_colmap(folder)
    n, h, w = npz["depth"][0]
    ext, ixt = npz["extrinsics"][1], npz["intrinsics"][1]
    if sorted(model["cameras"]) != list(range(1, n + 1)) or sorted(model["images"]) != list(range(1, n + 1)):
        fail("colmap: expected one camera and one image per view")
    for v in range(n):
        cam, im = model["cameras"][v + 1], model["images"][v + 1]
        sx, sy = cam["width"] / w, cam["height"] / h
        K = ixt[v * 9:(v + 1) * 9]
        want = [K[0] * sx, K[4] * sy, K[2] * sx, K[5] * sy]
        if cam["model"] != "PINHOLE" or any(abs(a - b) > 1e-4 * max(1, abs(b)) for a, b in zip(cam["params"], want)):
            fail(f"colmap: camera {v + 1} {cam} does not match the npz intrinsics {want}")
        R = quat_to_R(im["q"])
        for r in range(3):
            for c in range(3):
                if abs(R[r][c] - ext[v * 12 + r * 4 + c]) > 1e-5:
                    fail(f"colmap: image {v + 1} rotation differs from the npz extrinsics")
            if abs(im["t"][r] - ext[v * 12 + r * 4 + 3]) > 1e-5 * max(1, abs(ext[v * 12 + r * 4 + 3])):
                fail(f"colmap: image {v + 1} translation differs from the npz extrinsics")
    worst = 0.0
    for pid, p in model["points"].items():
        if len(p["track"]) != 1:
            fail(f"colmap: point {pid} has a track of {len(p['track'])}")
        iid, idx = p["track"][0]
        im = model["images"][iid]
        x2, y2, back = im["points2D"][idx]
        if back != pid:
            fail(f"colmap: point {pid}'s track names 2D point {idx} of image {iid}, which names point {back}")
        cam = model["cameras"][im["camera"]]
        R = quat_to_R(im["q"])
        X = [sum(R[r][c] * p["xyz"][c] for c in range(3)) + im["t"][r] for r in range(3)]
        fx, fy, cx, cy = cam["params"]
        u, v = fx * X[0] / X[2] + cx, fy * X[1] / X[2] + cy
        worst = max(worst, abs(u - x2), abs(v - y2))
    if worst > 1e-2:
        fail(f"colmap: reprojection error {worst} px")
    # Round trip: write the parsed model back (binary, then text) and parse it again; a binary
    # model must also come back byte for byte.
    import tempfile
    binary = os.path.exists(os.path.join(folder, "cameras.bin"))
    with tempfile.TemporaryDirectory() as tmp:
        write_colmap_bin(model, os.path.join(tmp, "bin"))
        write_colmap(model, os.path.join(tmp, "txt"))
        for sub in ("bin", "txt"):
            if parse_colmap(os.path.join(tmp, sub)) != model:
                fail(f"colmap: the {sub} round trip changed the model")
        if binary:
            for name in ("cameras.bin", "images.bin", "points3D.bin"):
                with open(os.path.join(folder, name), "rb") as a, open(os.path.join(tmp, "bin", name), "rb") as b:
                    if a.read() != b.read():
                        fail(f"colmap: {name} written back differs from the original")
    summary = {"cameras": len(model["cameras"]), "images": len(model["images"]), "points3D": len(model["points"]),
               "max_reprojection_px": worst, "round_trip": True, "binary": binary}
    try:
        import pycolmap
        rec = pycolmap.Reconstruction(folder)
        if rec.num_images() != n or rec.num_points3D() != len(model["points"]):
            fail("colmap: pycolmap reads a different model")
        # Round trip through COLMAP itself: pycolmap writes the model back as text; same model.
        with tempfile.TemporaryDirectory() as tmp:
            rec.write_text(tmp)
            back = parse_colmap_text(tmp)
        for cid, c in model["cameras"].items():
            b = back["cameras"][cid]
            if b["model"] != c["model"] or any(abs(x - y) > 1e-9 * max(1, abs(y)) for x, y in zip(b["params"], c["params"])):
                fail(f"colmap: camera {cid} changed through pycolmap")
        for iid, im in model["images"].items():
            b = back["images"][iid]
            if b["name"] != im["name"] or len(b["points2D"]) != len(im["points2D"]) or \
                    any(abs(x - y) > 1e-9 * max(1, abs(y)) for x, y in zip(b["q"] + b["t"], im["q"] + im["t"])):
                fail(f"colmap: image {iid} changed through pycolmap")
        for pid, pt in model["points"].items():
            b = back["points"][pid]
            if b["track"] != pt["track"] or any(abs(x - y) > 1e-9 * max(1, abs(y)) for x, y in zip(b["xyz"], pt["xyz"])):
                fail(f"colmap: point {pid} changed through pycolmap")
        summary["pycolmap_round_trip"] = True
    except ImportError:
        pass
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--npy", nargs="*", default=[], help="stems of per-view depth files to compare with the npz")
    args = ap.parse_args()
    d = args.dir
    npz_path = os.path.join(d, "scene.npz")
    if not os.path.exists(npz_path):
        fail("scene.npz is needed as the reference of the other files")
    npz = check_npz(npz_path)
    n, h, w = npz["depth"][0]
    summary = {"views": n, "height": h, "width": w}
    depth = npz["depth"][1]
    for i, stem in enumerate(args.npy):
        _, shape, values = read_npy(open(os.path.join(d, stem + ".depth.npy"), "rb").read())
        if shape != (h, w) or list(values) != list(depth[i * h * w:(i + 1) * h * w]):
            fail(f"{stem}.depth.npy differs from depth[{i}] of scene.npz")
    summary["npy"] = len(args.npy)
    ply = check_ply(os.path.join(d, "scene.ply")) if os.path.exists(os.path.join(d, "scene.ply")) else None
    if ply is not None:
        summary["ply_points"] = len(ply)
    if os.path.exists(os.path.join(d, "scene.glb")):
        points, lines = check_glb(os.path.join(d, "scene.glb"), n)
        summary["glb_points"] = len(points) // 3
        summary["glb_cameras"] = len(lines)
        if ply is not None:
            if len(ply) != len(points) // 3:
                fail("scene.glb and scene.ply hold different point counts")
            e = npz["extrinsics"][1]
            A = [[e[0], e[1], e[2], e[3]], [-e[4], -e[5], -e[6], -e[7]], [-e[8], -e[9], -e[10], -e[11]]]
            shift = None
            for i, p in enumerate(ply):
                q = [sum(A[r][c] * p[c] for c in range(3)) + A[r][3] for r in range(3)]
                s = [q[r] - points[3 * i + r] for r in range(3)]
                if shift is None:
                    shift = s
                if any(abs(a - b) > 1e-3 * max(1, abs(b)) for a, b in zip(s, shift)):
                    fail("scene.glb points are not the scene.ply points under the reference camera's glTF map")
    if os.path.isdir(os.path.join(d, "colmap")):
        summary["colmap"] = check_colmap(os.path.join(d, "colmap"), npz)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
