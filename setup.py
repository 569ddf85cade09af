# Only the C extension is declared here; all metadata lives in setup.cfg. No contraction into
# fused multiply-adds: the tags of csrc/tags.c are numpy's (tests/reference_tags.py) on every CPU.
from glob import glob

from setuptools import Extension, setup

setup(ext_modules=[Extension("segcli._core", sorted(glob("csrc/*.c")), include_dirs=["csrc"],
                             depends=sorted(glob("csrc/*.h")), extra_compile_args=["-O3", "-ffp-contract=off"])])
