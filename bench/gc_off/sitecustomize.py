"""Put on PYTHONPATH with BENCH_GC_OFF=1, a policy pack process runs with the cyclic GC off (bench only)."""

import gc
import os

if os.environ.get("BENCH_GC_OFF"):
    gc.disable()
