"""Video benchmark: seconds of CPU per minute of 1080p video, and what a long clip does to photos; JSON.

    .venv/bin/python bench/video.py                  # about 2 minutes on 2 cores (making the clips included)
    .venv/bin/python bench/video.py --seconds 60

Clips, made here with PyAV from the leopard sample (tests/clips.py), slowly panned so that the encoder
and decoder do real work:
- H.264 MP4, 1920x1080, 25 fps (a phone or a modern trap);
- MJPEG AVI, 1920x1080, 15 fps (what many camera traps write: every frame a JPEG);
plus the real camera-trap clips in ../shared/samples/videos (tiny: 106x60 test assets).

For each: "sample" is bot.media.video.FrameSampler alone (demux, decode, downscale to 1280 px, JPEG) and
"detect" the detector on the sampled frames (at most 60 per clip, 2 per second). CPU seconds are
process CPU time (all threads). Per minute of video: decoding grows with the length of the clip (an
H.264 clip is decoded frame by frame), detection does not (a 1-minute clip gets the same 60 frames as
a 30 s one), so `cpu_s_per_minute` = sample CPU scaled to 60 s + detect CPU per frame x 60.

Fairness ("photos_during_video"): the bot's own services (one detector, its executor, the video
intake) record the 1080p H.264 clip while photos arrive every 0.5 s; each photo's time to a recorded
sighting is compared with the same photos alone. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python bench/video.py` without installing
    sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.detection.model import OnnxLeopardDetector  # noqa: E402
from bot.intake.types import PhotoIntake, Ranger  # noqa: E402
from bot.intake.videos import Clip  # noqa: E402
from bot.media.video import FrameSampler  # noqa: E402
from bot.services import Services  # noqa: E402
from tests.conftest import leopard_variants  # noqa: E402
from tests.support.clips import LEOPARD, make_clip  # noqa: E402

SHARED = REPO.parent / "shared" / "samples" / "videos"


def cpu() -> float:
    return time.process_time()


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(detector: OnnxLeopardDetector, source: bytes | Path) -> dict[str, object]:
    c0, w0 = cpu(), time.perf_counter()
    with FrameSampler(source) as sampler:
        frames = []
        while batch := sampler.next_batch(4):
            frames += batch
        info, decoded = sampler.info, sampler.decoded
    c1, w1 = cpu(), time.perf_counter()
    best = max((detector.detect(f.jpeg) for f in frames), key=lambda d: d.score)
    c2, w2 = cpu(), time.perf_counter()
    sample_cpu, detect_cpu = c1 - c0, c2 - c1
    per_frame = detect_cpu / len(frames)
    return {
        "container": info.container,
        "codec": info.codec,
        "size": f"{info.width}x{info.height}",
        "seconds": round(info.duration, 2),
        "frames_decoded": decoded,
        "frames_detected": len(frames),
        "sample_cpu_s": round(sample_cpu, 2),
        "sample_wall_s": round(w1 - w0, 2),
        "detect_cpu_s": round(detect_cpu, 2),
        "detect_wall_s": round(w2 - w1, 2),
        "detect_cpu_ms_per_frame": round(per_frame * 1000, 1),
        "cpu_s_per_minute": round(sample_cpu * 60 / max(info.duration, 1e-9) + per_frame * 60, 1),
        "best": {"label": best.label, "score": best.score},
    }


def decode_everything(path: Path) -> float:
    """CPU seconds to decode every frame (what FrameSampler avoids for MJPEG), for comparison."""
    import av

    c0 = cpu()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for _ in container.decode(stream):
            pass
    return round(cpu() - c0, 2)


async def photos_during_video(clip: bytes, photos: list[bytes], root: Path) -> dict[str, object]:
    settings = Settings(database=root / "lw.sqlite3", photo_dir=root / "photos")
    services = await Services.create(settings)
    ranger, now = Ranger(700_001, "bench"), datetime.now(UTC)

    async def one(data: bytes) -> float:
        t0 = time.perf_counter()
        await services.sightings.record_photo(PhotoIntake(data=data, ranger=ranger, received_at=now))
        return (time.perf_counter() - t0) * 1000

    try:
        alone = [await one(data) for data in photos[: len(photos) // 2]]
        t0 = time.perf_counter()
        video = asyncio.create_task(
            services.videos.record(PhotoIntake(data=b"", ranger=ranger, received_at=now), Clip(data=clip))
        )
        during: list[float] = []
        for data in photos[len(photos) // 2 :]:
            await asyncio.sleep(0.5)
            if video.done():
                break
            during.append(await one(data))
        await video
        video_s = time.perf_counter() - t0
    finally:
        await services.close()
    return {
        "photo_ms_alone": {"median": round(statistics.median(alone)), "max": round(max(alone))},
        "photo_ms_during_video": {"median": round(statistics.median(during)), "max": round(max(during))},
        "photos_during_video": len(during),
        "video_wall_s": round(video_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the 1080p clips")
    args = parser.parse_args()
    out: dict[str, object] = {"load_1min_before": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        h264 = make_clip([(LEOPARD, args.seconds)], codec="h264", fps=25, size=(1920, 1080), pan=200)
        (root / "h264.mp4").write_bytes(h264)
        mjpeg = make_clip([(LEOPARD, args.seconds)], codec="mjpeg", fps=15, size=(1920, 1080), pan=200)
        (root / "mjpeg.avi").write_bytes(mjpeg)
        out["clip_making_wall_s"] = round(time.perf_counter() - t0, 1)
        out["clip_mb"] = {"h264_mp4": round(len(h264) / 2**20, 1), "mjpeg_avi": round(len(mjpeg) / 2**20, 1)}
        del mjpeg
        detector = OnnxLeopardDetector(threads=os.cpu_count() or 1)
        detector.detect(LEOPARD.read_bytes())  # the first call pays for the session's warm-up
        out["precision"] = getattr(detector, "precision", "fp32")
        out["h264_1080p"] = measure(detector, root / "h264.mp4")
        out["mjpeg_1080p"] = measure(detector, root / "mjpeg.avi")
        out["mjpeg_1080p_decode_every_frame_cpu_s"] = decode_everything(root / "mjpeg.avi")
        if SHARED.is_dir():
            out["real_clips"] = {p.name: measure(detector, p) for p in sorted(SHARED.iterdir())}
        del detector
        out["fairness"] = asyncio.run(photos_during_video(h264, leopard_variants(20), root))
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
