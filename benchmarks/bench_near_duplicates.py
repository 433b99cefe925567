"""How well do backbone features and a perceptual hash find near-copies of training photos? The thresholds' figures.

On the active profile's 10% training images (``../shared/data/food10`` for ``make benchmark``), measured in one run:

- **detection**: ``PLANTED`` training photos, spread over the classes, each copied three ways with
  :func:`helpers.data.plant_copy` (resized to half, re-encoded as a JPEG of quality 30, an 80% crop). A copy is
  found when it is close enough to its original;
- **false alarms**: for the same photos, the closest *other* photo of their class among all the training images
  (the 100% folder; identical files left out: those are real duplicates). A false alarm is one close enough to be
  reported.

Three detectors on the same images: the cosine similarity of the frozen backbone's pooled features
(:func:`helpers.data.embed_images`, at least :data:`helpers.data.NEAR_DUPLICATE_THRESHOLD`), the perceptual hash
(:func:`helpers.data.perceptual_hash`, at most :data:`helpers.data.HASH_BITS` bits apart; checked against
``imagehash.phash``), and either of the two, which is what :func:`helpers.data.near_duplicates` reports. The rates
go to ``benchmarks/last_results.csv``; the README quotes them.

    COURSE_DATA_DIR=../shared/data/food10 COURSE_BACKBONE=mobilenet_v2_035 python benchmarks/bench_near_duplicates.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.common import backbone_for_profile, figure
from helpers import config, data

NAME = "near_duplicates"
PLANTED = 60
CUTS = (0.7, 0.75, 0.8, 0.85, 0.9)


def feature_model(backbone: str, input_shape: tuple[int, int, int]):
    """Notebook 03's ``feature_model``: the course's feature extractor up to its pooling layer (no head)."""
    import keras

    from helpers.models import build_feature_extractor

    model = build_feature_extractor(backbone, input_shape, 1, name="feature_extractor")
    return keras.Model(model.input, model.get_layer("pooling").output, name="feature_model")


def sample(train_dir: Path, n: int, seed: int) -> list[Path]:
    """``n`` training photos, as evenly over the classes as the folder allows, seeded."""
    rng = np.random.default_rng(seed)
    chosen = []
    for name in data.list_classes(train_dir):
        paths = data.list_images(train_dir / name)
        take = min(len(paths), -(-n // len(data.list_classes(train_dir))))
        chosen += [paths[i] for i in sorted(rng.choice(len(paths), take, replace=False))]
    return chosen[:n]


def matches_imagehash(paths: list[Path]) -> float:
    """The share of ``paths`` whose :func:`helpers.data.perceptual_hash` is ``imagehash.phash``'s, bit for bit."""
    import imagehash
    from PIL import Image

    same = 0
    for path in paths:
        with Image.open(path) as image:
            same += bool(np.array_equal(data.perceptual_hash(path), imagehash.phash(image).hash.flatten()))
    return same / len(paths)


def main(planted: int = PLANTED) -> dict:
    """Detection per kind of copy and false alarms, for each detector."""
    profile = config.setup(verbose=False)
    backbone = backbone_for_profile()
    train_dir = data.food_data(10, profile).train
    originals = sample(train_dir, planted, profile.seed)
    model = feature_model(backbone, profile.input_shape)
    cut, bits = data.NEAR_DUPLICATE_THRESHOLD, data.HASH_BITS
    own = data.embed_images(model, originals, profile.image_size)
    own_hash = np.stack([data.perceptual_hash(path) for path in originals])
    cosine, distance = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in data.COPY_KINDS:
            paths = [data.plant_copy(p, Path(tmp) / kind / f"{i}.jpg", kind) for i, p in enumerate(originals)]
            cosine[kind] = np.sum(own * data.embed_images(model, paths, profile.image_size), axis=1)
            distance[kind] = np.sum(own_hash != np.stack([data.perceptual_hash(p) for p in paths]), axis=1)
    everyone = data.split_images(data.food_data(100, profile).train)  # every training photo of the classes
    vectors = data.embed_images(model, everyone, profile.image_size)
    hashes = np.stack([data.perceptual_hash(path) for path in everyone])
    digests = [data.sha256sum(path) for path in everyone]
    near_cos, near_bits = [], []
    for vector, code, path in zip(own, own_hash, originals, strict=True):
        digest = data.sha256sum(path)
        others = [i for i, p in enumerate(everyone) if p.parent.name == path.parent.name and digests[i] != digest]
        near_cos.append(float(np.max(vectors[others] @ vector)))
        near_bits.append(int(np.min(np.sum(hashes[others] != code, axis=1))))
    near_cos, near_bits = np.array(near_cos), np.array(near_bits)
    detectors = {
        "features": (lambda c, d: c >= cut),
        "phash": (lambda c, d: d <= bits),
        "either": (lambda c, d: (c >= cut) | (d <= bits)),
    }
    print(
        f"backbone: {backbone} | {profile.image_size[0]} px | {len(originals)} photos, each copied "
        f"{', '.join(data.COPY_KINDS)} | features: cosine >= {cut} | phash: <= {bits} of 64 bits"
    )
    results = []
    for detector, fires in detectors.items():
        found = {kind: float(np.mean(fires(cosine[kind], distance[kind]))) for kind in data.COPY_KINDS}
        alarms = float(np.mean(fires(near_cos, near_bits)))
        shown = ", ".join(f"{kind} {share:.0%}" for kind, share in found.items())
        print(f"  {detector:<8} found: {shown} | false alarms {alarms:.0%}")
        name = NAME if detector == "either" else f"{NAME}_{detector}"
        for kind, share in found.items():  # crops are the hard case: the cut trades them against false alarms
            target = (">=", 0.9) if detector == "either" and kind != "cropped" else (None, None)
            results.append(figure(f"{name}_found_{kind}", share, "share", *target))
        results.append(
            figure(f"{name}_false_alarms", alarms, "share", *((("<=", 0.05)) if detector == "either" else (None, None)))
        )
    for kind in data.COPY_KINDS:
        print(
            f"  {kind:<9} copy to original: cosine min {cosine[kind].min():.3f}, median "
            f"{np.median(cosine[kind]):.3f} | hash bits max {distance[kind].max()}"
        )
    print(
        f"  closest distinct photo: cosine median {np.median(near_cos):.3f}, max {near_cos.max():.3f} | "
        f"hash bits min {near_bits.min()}"
    )
    for other in CUTS:
        shares = ", ".join(f"{kind} {np.mean(cosine[kind] >= other):.0%}" for kind in data.COPY_KINDS)
        print(f"  features at cosine >= {other}: found {shares}; false alarms {np.mean(near_cos >= other):.0%}")
    for other in (4, 6, 8, 10):
        shares = ", ".join(f"{kind} {np.mean(distance[kind] <= other):.0%}" for kind in data.COPY_KINDS)
        print(f"  hash at <= {other} bits: found {shares}; false alarms {np.mean(near_bits <= other):.0%}")
    results.append(figure("perceptual_hash_matches_imagehash", matches_imagehash(originals), "share", ">=", 1.0))
    return {"results": results, "backbone": backbone, "photos": len(originals)}


def scan(folders: dict[str, tuple[Path, Path]]) -> dict:
    """:func:`helpers.data.near_duplicates` between the two splits of each named pair of folders: what it reports.

    ``python benchmarks/bench_near_duplicates.py --scan`` runs it on ``../shared``'s food (train against test) and
    ants vs bees (train against val), with the active profile's backbone.
    """
    profile = config.setup(verbose=False)
    backbone = backbone_for_profile()
    model = feature_model(backbone, profile.input_shape)
    results, found = [], {}
    for name, (train, other) in folders.items():
        pairs = data.near_duplicates(model, train, other, profile.image_size)
        identical = sum(data.sha256sum(pair.train) == data.sha256sum(pair.other) for pair in pairs)
        print(f"{name}: {len(pairs)} pairs reported ({identical} of them identical files), backbone {backbone}")
        for pair in pairs:
            print(
                f"  cosine {pair.similarity:.3f} | hash {pair.hash_bits:>2} bits | {pair.train.parent.name}/"
                f"{pair.train.name} ~ {pair.other.parent.name}/{pair.other.name}"
            )
        results.append(figure(f"{NAME}_{name}_pairs", len(pairs), "pairs"))
        found[name] = pairs
    return {"results": results, "pairs": found}


if __name__ == "__main__":
    if "--scan" in sys.argv:
        shared = config.find_root().parent / "shared" / "data"
        scan(
            {
                "food10": (shared / "food10" / "train", shared / "food10" / "test"),
                "hymenoptera": (shared / "hymenoptera" / "train", shared / "hymenoptera" / "val"),
            }
        )
    else:
        main()
