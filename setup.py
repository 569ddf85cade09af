# Only the C extension is declared here; all metadata lives in setup.cfg.
from setuptools import Extension, setup

setup(ext_modules=[
    Extension("segcli._viterbi", ["segcli/_viterbi.c"], extra_compile_args=["-O3"]),
    Extension("segcli._lookup", ["segcli/_lookup.c"], extra_compile_args=["-O3"]),
])
