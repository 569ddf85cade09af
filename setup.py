# Only the C extension is declared here; all metadata lives in setup.cfg.
from setuptools import Extension, setup

setup(ext_modules=[Extension("segcli._core", ["segcli/_core.c"], extra_compile_args=["-O3"])])
