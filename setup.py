# Only the C extension is declared here; all metadata lives in setup.cfg.
import numpy
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "segcli._viterbi",
            ["segcli/_viterbi.c"],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=["-O3"],
        )
    ]
)
