"""Cost of encryption at rest: PutObject/GetObject through the directory store, in the clear and sealed
(AES256 under the master key; aws:kms under a KMS key), for small (image-sized) and large objects.
Prints a table and exits.

    .venv/bin/python bench/sealing_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.stores import server_stores  # noqa: E402

from openrek.store.objects import DirectoryObjectStore  # noqa: E402
from openrek.store.sealed_files import Encryption  # noqa: E402


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores = server_stores(Path(tmp) / "data")
        clear = DirectoryObjectStore(Path(tmp) / "clear")
        for s in (clear, stores.objects):
            s.create_bucket("bench")
        key = stores.kms_keys.create_key("000000000000", "us-east-1")["KeyMetadata"]["Arn"]
        modes = {"clear": (clear, None), "AES256": (stores.objects, None),
                 "aws:kms": (stores.objects, Encryption.kms(key))}
        print("| object | mode | put median | get median | put MB/s | get MB/s |")
        print("|---|---|---|---|---|---|")
        for label, size, repeat in (("40 KB image", 40_000, 50), ("8 MiB model", 8 * 1024 * 1024, 3)):
            data = os.urandom(size)
            for mode, (store, encryption) in modes.items():
                puts, gets = [], []
                for _ in range(args.rounds):
                    puts.append(timed(lambda s=store, d=data, e=encryption: s.put_object("bench", "k", d, encryption=e),
                                      repeat))
                    gets.append(timed(lambda s=store: s.get_bytes("bench", "k"), repeat))
                put, get = statistics.median(puts), statistics.median(gets)
                print(f"| {label} | {mode} | {put * 1000:.2f} ms | {get * 1000:.2f} ms | "
                      f"{size / put / 1e6:.0f} | {size / get / 1e6:.0f} |")


if __name__ == "__main__":
    main()
