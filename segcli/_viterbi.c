/* Constrained Viterbi decoding over the four tags s=0, b=1, m=2, e=3.
 *
 * Private helper for segcli.decode: that module does the dtype/shape policy,
 * this file only runs the loop.  It still checks every buffer size and every
 * segment bound itself, because memory safety must not depend on the caller.
 *
 * Tie-breaking (documented contract, mirrored by tests/reference_viterbi.py):
 * predecessors are scanned in index order with a strict '>', so the first
 * maximum wins; the final tag is s unless e is strictly greater.  Each choice
 * starts from the first legal candidate, so NaN comparisons (always false)
 * can only ever keep a legal tag: the output is a legal sequence for any input.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { S = 0, B = 1, M = 2, E = 3, NTAGS = 4 };

/* Legal predecessors of each tag, in increasing index order. */
static const int PRED[NTAGS][2] = {{S, E}, {S, E}, {B, M}, {B, M}};

/* Decodes one non-empty segment.  bp holds len*NTAGS bytes (row 0 unused). */
static void
decode_segment(const float *scores, const double *trans, Py_ssize_t len,
               uint8_t *bp, uint8_t *out)
{
	double delta[NTAGS], next[NTAGS];
	Py_ssize_t t;
	int j, k, tag;

	/* A segment may only start with s or b. */
	delta[S] = scores[S];
	delta[B] = scores[B];
	delta[M] = -INFINITY;
	delta[E] = -INFINITY;

	for (t = 1; t < len; t++) {
		const float *row = scores + t * NTAGS;
		uint8_t *bpt = bp + t * NTAGS;
		for (j = 0; j < NTAGS; j++) {
			int arg = PRED[j][0];
			double best = delta[arg] + trans[arg * NTAGS + j];
			for (k = 1; k < 2; k++) {
				int i = PRED[j][k];
				double v = delta[i] + trans[i * NTAGS + j];
				if (v > best) {
					best = v;
					arg = i;
				}
			}
			next[j] = best + (double)row[j];
			bpt[j] = (uint8_t)arg;
		}
		memcpy(delta, next, sizeof delta);
	}

	/* A segment may only end with s or e. */
	tag = delta[E] > delta[S] ? E : S;
	out[len - 1] = (uint8_t)tag;
	for (t = len - 1; t > 0; t--) {
		tag = bp[t * NTAGS + tag];
		out[t - 1] = (uint8_t)tag;
	}
}

static int
check_buffer(const Py_buffer *buf, Py_ssize_t itemsize, const char *what)
{
	if (buf->itemsize != itemsize || buf->len % itemsize != 0) {
		PyErr_Format(PyExc_ValueError,
		             "%s: expected %zd-byte items, got itemsize %zd and "
		             "%zd bytes", what, itemsize, buf->itemsize, buf->len);
		return -1;
	}
	if ((uintptr_t)buf->buf % (uintptr_t)itemsize != 0) {
		PyErr_Format(PyExc_ValueError, "%s: buffer is not aligned", what);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(viterbi_doc,
"viterbi(scores, starts, ends, transitions, out) -> None\n\
\n\
Constrained Viterbi over tags s=0, b=1, m=2, e=3.\n\
scores: float32 N x 4; starts, ends: int64, K each; transitions: float32\n\
4 x 4; out: writable uint8, N.  Segment k is rows [starts[k], ends[k]);\n\
rows outside every segment are not written.  Ties go to the lowest tag\n\
index.  Raises ValueError on bad sizes or bounds.");

static PyObject *
viterbi(PyObject *self, PyObject *args)
{
	Py_buffer scores, starts, ends, transbuf, out;
	PyObject *result = NULL;
	const float *sc;
	const int64_t *st, *en;
	uint8_t *o, *bp = NULL;
	double trans[NTAGS * NTAGS];
	Py_ssize_t n, nseg, k, maxlen = 0;
	int raced = 0;

	if (!PyArg_ParseTuple(args, "y*y*y*y*w*:viterbi", &scores, &starts,
	                      &ends, &transbuf, &out))
		return NULL;

	if (check_buffer(&scores, sizeof(float), "scores") < 0 ||
	    check_buffer(&starts, sizeof(int64_t), "starts") < 0 ||
	    check_buffer(&ends, sizeof(int64_t), "ends") < 0 ||
	    check_buffer(&transbuf, sizeof(float), "transitions") < 0 ||
	    check_buffer(&out, 1, "out") < 0)
		goto done;
	if (scores.len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0) {
		PyErr_SetString(PyExc_ValueError, "scores: length is not a multiple of 4");
		goto done;
	}
	n = scores.len / (Py_ssize_t)(NTAGS * sizeof(float));
	if (transbuf.len != (Py_ssize_t)(NTAGS * NTAGS * sizeof(float))) {
		PyErr_SetString(PyExc_ValueError, "transitions: expected 16 items");
		goto done;
	}
	if (starts.len != ends.len) {
		PyErr_SetString(PyExc_ValueError, "starts and ends differ in length");
		goto done;
	}
	if (out.len != n) {
		PyErr_Format(PyExc_ValueError, "out: expected %zd items, got %zd",
		             n, out.len);
		goto done;
	}

	sc = (const float *)scores.buf;
	st = (const int64_t *)starts.buf;
	en = (const int64_t *)ends.buf;
	o = (uint8_t *)out.buf;
	nseg = starts.len / (Py_ssize_t)sizeof(int64_t);
	for (k = 0; k < NTAGS * NTAGS; k++)
		trans[k] = ((const float *)transbuf.buf)[k];

	/* Validate everything before writing anything. */
	for (k = 0; k < nseg; k++) {
		int64_t s = st[k], e = en[k];
		if (s < 0 || s > e || e > (int64_t)n) {
			PyErr_Format(PyExc_ValueError,
			             "segment %zd: [%lld, %lld) is not within [0, %zd]",
			             k, (long long)s, (long long)e, n);
			goto done;
		}
		if (e - s > maxlen)
			maxlen = (Py_ssize_t)(e - s);
	}

	if (maxlen > 0) {
		/* maxlen <= n and n * 16 bytes already exist, so this cannot overflow. */
		bp = (uint8_t *)malloc((size_t)maxlen * NTAGS);
		if (bp == NULL) {
			PyErr_NoMemory();
			goto done;
		}
	}

	Py_BEGIN_ALLOW_THREADS
	for (k = 0; k < nseg; k++) {
		/* Re-checked because another thread may mutate the buffers now. */
		int64_t s = st[k], e = en[k];
		if (s < 0 || s > e || e > (int64_t)n || e - s > (int64_t)maxlen) {
			raced = 1;
			break;
		}
		if (e > s)
			decode_segment(sc + s * NTAGS, trans, (Py_ssize_t)(e - s), bp, o + s);
	}
	Py_END_ALLOW_THREADS

	if (raced) {
		PyErr_SetString(PyExc_ValueError, "segment bounds changed during decoding");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;

done:
	free(bp);
	PyBuffer_Release(&scores);
	PyBuffer_Release(&starts);
	PyBuffer_Release(&ends);
	PyBuffer_Release(&transbuf);
	PyBuffer_Release(&out);
	return result;
}

static PyMethodDef module_methods[] = {
	{"viterbi", (PyCFunction)viterbi, METH_VARARGS, viterbi_doc},
	{NULL, NULL, 0, NULL}  /* Sentinel */
};

/* The tag ids, exported so that tests can check that segcli.decode agrees. */
static int
module_exec(PyObject *module)
{
	if (PyModule_AddIntConstant(module, "S", S) < 0 ||
	    PyModule_AddIntConstant(module, "B", B) < 0 ||
	    PyModule_AddIntConstant(module, "M", M) < 0 ||
	    PyModule_AddIntConstant(module, "E", E) < 0)
		return -1;
	return 0;
}

static PyModuleDef_Slot module_slots[] = {
	{Py_mod_exec, module_exec},
#ifdef Py_mod_multiple_interpreters  /* Python 3.12+ */
	{Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil  /* Python 3.13+ */
	{Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
	{0, NULL}  /* Sentinel */
};

static struct PyModuleDef module_definition = {
	.m_base = PyModuleDef_HEAD_INIT,
	.m_name = "segcli._viterbi",
	.m_doc = "Private constrained Viterbi loop for segcli.decode.",
	.m_size = 0,
	.m_methods = module_methods,
	.m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__viterbi(void)
{
	return PyModuleDef_Init(&module_definition);
}
