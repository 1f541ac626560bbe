"""Poster benchmark: ms per poster (p50, p99) on one core and memory across N posters.

    python bench/poster/run.py                 # 1,000 posters, pinned to one core
    python bench/poster/run.py -n 200 --json   # fewer, machine-readable

Wall-clock times suffer when other processes share the core; the CPU time of this thread per
poster (time.thread_time) is reported beside them. What one poster costs here is what a worker pays per new sharer: a copy of the campaign's cached
static layer (cover, title, captions), the exact figure, the number of helps and the progress
bar, the sharer's avatar (decoded from a
132 px JPEG like WeChat's, then cropped), nickname, a QR code of the sharer's own link, and the
JPEG encode. Posters go round-robin over five campaigns so each one's static layer is drawn
once (that cold cost is reported on its own). Memory is the process's resident set (VmRSS),
sampled as it goes, and its peak (VmHWM); "growth" compares the last sample with the one after
the first 10% of posters, once every cache is warm.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image, ImageDraw  # noqa: E402

from app.sharing.posters import (PosterContent, PosterRenderer, encode_jpeg,  # noqa: E402
                                 poster_progress, prepare_avatar)

TITLES = ["救救我六岁的女儿小雨，急性淋巴细胞白血病急需骨髓移植",
          "父亲突发脑出血，重症监护每天上万，恳请好心人帮帮我们",
          "十九岁大学生确诊骨肉瘤，家里已经倾尽所有",
          "妈妈患乳腺癌晚期，化疗费用难以为继",
          "早产双胞胎在新生儿科抢救，求助治疗费"]


def _memory() -> dict[str, int]:
    """Resident and peak resident memory of this process, in KiB (Linux /proc)."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount, _unit = line.split()
                values[name.rstrip(":")] = int(amount)
    return values


def _photo(seed: int, size=(1600, 1200)) -> Image.Image:
    """A photo-like JPEG (gradients and shapes, so the encoder has real work), decoded."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(0, size[1], 6):
        draw.rectangle((0, y, size[0], y + 6), fill=((seed * 40 + y // 5) % 256, 120 + y % 90,
                                                      (200 - y // 7) % 256))
    for i in range(12):
        x, y = (seed * 97 + i * 131) % size[0], (seed * 53 + i * 89) % size[1]
        draw.ellipse((x, y, x + 300, y + 220), fill=((i * 30) % 256, 90, (i * 50) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return Image.open(io.BytesIO(out.getvalue()))


def _avatar_jpeg(seed: int) -> bytes:
    image = Image.new("RGB", (132, 132), ((seed * 37) % 256, (seed * 91) % 256, 160))
    ImageDraw.Draw(image).ellipse((30, 20, 100, 90), fill=(250, 220, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _contents(campaigns: int) -> list[PosterContent]:
    result = []
    for i in range(campaigns):
        raised, percent = poster_progress((i + 1) * 37_000_00 + 4_321_88, 300_000_00)
        result.append(PosterContent(
            kind="poster", campaign_id=i + 1, title=TITLES[i % len(TITLES)],
            plea="确诊急性淋巴细胞白血病，正在北京儿童医院治疗，恳请帮帮 TA", cover_key=f"c{i}",
            raised_fen=raised, target_fen=300_000_00, percent=percent, sharer_name="",
            avatar_url="", link="", donation_count=(i + 1) * 1_234))
    return result


def run(count: int, campaigns: int = 5) -> dict:
    imported_rss = _memory()["VmRSS"]
    renderer = PosterRenderer()
    bases = _contents(campaigns)
    covers = [_photo(i) for i in range(campaigns)]
    avatars = [_avatar_jpeg(i) for i in range(64)]

    cold = []
    for base, cover in zip(bases, covers):
        started = time.perf_counter()
        renderer.static_layer(base, cover)
        cold.append((time.perf_counter() - started) * 1000)

    ready_rss = _memory()["VmRSS"]
    timings, cpu, samples = [], [], []
    warm_mark = max(1, count // 10)
    for n in range(count):
        base = bases[n % campaigns]
        content = replace(base, sharer_name=f"爱心用户{n:04d}",
                          link=f"https://xiangzhu.example/s/{n:011d}/p")
        started, started_cpu = time.perf_counter(), time.thread_time()
        avatar = prepare_avatar(Image.open(io.BytesIO(avatars[n % len(avatars)])), "")
        data = encode_jpeg(renderer.render(content, covers[n % campaigns], avatar))
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        assert len(data) > 10_000
        if n + 1 == warm_mark or (n + 1) % max(1, count // 10) == 0:
            samples.append((n + 1, _memory()["VmRSS"]))

    timings.sort()
    cpu.sort()
    memory = _memory()
    warm_rss = dict(samples)[warm_mark]
    return {
        "posters": count,
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": round(cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))], 2),
        "max_ms": round(timings[-1], 2),
        "static_layer_cold_ms": round(statistics.median(cold), 2),
        "rss_kib_samples": samples,
        "rss_growth_kib_after_warmup": samples[-1][1] - warm_rss,
        "peak_rss_kib": memory["VmHWM"],
        "rss_kib_after_imports": imported_rss,
        "rss_kib_before_posters": ready_rss,
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = parser.parse_args(argv)
    if not args.all_cores:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    result = run(args.count)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['posters']} posters on core(s) {result['cpu_affinity']}: "
          f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms "
          f"(static layer, once per campaign: {result['static_layer_cold_ms']} ms)")
    print(f"cpu time per poster: p50 {result['cpu_p50_ms']} ms, p99 {result['cpu_p99_ms']} ms "
          "(what the poster costs when other processes share the core)")
    print(f"memory: {result['rss_kib_after_imports'] / 1024:.1f} MiB after imports, "
          f"{result['rss_kib_before_posters'] / 1024:.1f} MiB with covers and static layers, "
          f"peak RSS {result['peak_rss_kib'] / 1024:.1f} MiB, growth after warm-up "
          f"{result['rss_growth_kib_after_warmup']} KiB; samples (posters, KiB): "
          + ", ".join(f"{n}:{kib}" for n, kib in result["rss_kib_samples"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
