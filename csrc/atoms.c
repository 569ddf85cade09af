/* The loops of segcli/atoms.py: the runs of characters an atom can be made
 * of (atom_runs: the regular expression runs over them alone), and atoms'
 * spans ruled out of the tag scores (constrain).
 *
 * Twins: _runs_twin and _constrain_twin in tests/test_atoms.py.
 */
#include "core.h"

PyDoc_STRVAR(atom_runs_doc,
"atom_runs(cps, table, starts, ends, joined) -> tuple[int, int]\n\
\n\
The runs of two or more consecutive code points whose table byte is\n\
non-zero (0 past the table): their bounds into starts and ends, and\n\
their code points into joined, each run followed by a newline.  Returns\n\
(runs, code points written to joined).  cps, joined: uint32; table:\n\
uint8; starts, ends: int64 of at least len(cps) // 2 + 1 items, joined of\n\
at least len(cps) + len(cps) // 2 + 1.");

static PyObject *
atom_runs(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, TABLE, STARTS, ENDS, JOINED, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"cps", sizeof(uint32_t)}, {"table", 1}, {"starts", sizeof(int64_t)},
	                                        {"ends", sizeof(int64_t)}, {"joined", sizeof(uint32_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, ntable, count = 0, written = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*w*w*w*:atom_runs", &v[CPS], &v[TABLE], &v[STARTS], &v[ENDS],
	                 &v[JOINED]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	ntable = v[TABLE].len;
	/* Runs of two or more, apart: at most (n + 1) / 3 of them, n + (n + 1) / 3 code points joined. */
	if (v[STARTS].len != v[ENDS].len || v[STARTS].len / (Py_ssize_t)sizeof(int64_t) < n / 2 + 1 ||
	    v[JOINED].len / (Py_ssize_t)sizeof(uint32_t) < n + n / 2 + 1) {
		PyErr_SetString(PyExc_ValueError, "starts and ends: at least len(cps) // 2 + 1 items each; "
		                                  "joined: at least len(cps) + len(cps) // 2 + 1");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const uint8_t *t = (const uint8_t *)v[TABLE].buf;
		int64_t *so = (int64_t *)v[STARTS].buf, *eo = (int64_t *)v[ENDS].buf;
		uint32_t *jo = (uint32_t *)v[JOINED].buf;
		Py_ssize_t i = 0;
		/* Each code point is read once into a local: the caller's buffer may
		 * change meanwhile (no GIL), and a bound checked on one read must hold
		 * for the index made from it. */
		while (i < n) {
			Py_ssize_t first = i;
			uint32_t cp;
			while (i < n && (size_t)(cp = c[i]) < (size_t)ntable && t[cp]) {
				jo[written + (i - first)] = cp;
				i++;
			}
			if (i - first >= 2) {
				so[count] = first;
				eo[count] = i;
				count++;
				written += i - first;
				jo[written++] = '\n';
			}
			if (i == first)
				i++;
		}
	}
	Py_END_ALLOW_THREADS

	result = Py_BuildValue("(nn)", count, written);
done:
	return release_buffers(v, VIEWS, result);
}

PyDoc_STRVAR(constrain_doc,
"constrain(scores, starts, ends, penalty) -> None\n\
\n\
Rules out every cut inside the spans [starts[k], ends[k]) of the (N, 4)\n\
float32 tag scores, in place: penalty comes off s at each of a span's\n\
positions, off b at all but its first and off e at all but its last.\n\
starts, ends: int64, as many; spans in order, apart, within the scores.");

static PyObject *
constrain(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { SCORES, STARTS, ENDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"scores", sizeof(float)}, {"starts", sizeof(int64_t)}, {"ends", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	double penalty;
	Py_ssize_t nrows, nspans, k;
	int64_t *spans = NULL;

	if (take_buffers(args, v, specs, VIEWS, "w*y*y*d:constrain", &v[SCORES], &v[STARTS], &v[ENDS], &penalty) < 0)
		return NULL;
	if (v[SCORES].len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0 || v[STARTS].len != v[ENDS].len) {
		PyErr_SetString(PyExc_ValueError, "scores: (N, 4) items; starts and ends: as many each");
		goto done;
	}
	nrows = v[SCORES].len / (Py_ssize_t)(NTAGS * sizeof(float));
	nspans = v[STARTS].len / (Py_ssize_t)sizeof(int64_t);
	/* The spans are copied, then checked: the writes below, without the GIL,
	 * could otherwise change them (ends may share the scores' memory). */
	spans = (int64_t *)malloc(2 * ((size_t)nspans + 1) * sizeof(int64_t));
	if (spans == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	memcpy(spans, v[STARTS].buf, (size_t)nspans * sizeof(int64_t));
	memcpy(spans + nspans, v[ENDS].buf, (size_t)nspans * sizeof(int64_t));
	for (k = 0; k < nspans; k++) {
		int64_t a = spans[k], b = spans[nspans + k];
		int64_t before = k ? spans[nspans + k - 1] : 0;
		if (a < before || a > b || b > (int64_t)nrows) {
			PyErr_SetString(PyExc_ValueError, "spans must be in order, apart and within the scores");
			goto done;
		}
	}

	Py_BEGIN_ALLOW_THREADS
	{
		float *s = (float *)v[SCORES].buf;
		const int64_t *a = spans, *b = spans + nspans;
		const float p = (float)penalty;
		int64_t i;
		for (k = 0; k < nspans; k++) {
			for (i = a[k]; i < b[k]; i++) {
				float *row = s + i * NTAGS;
				row[S] -= p;
				if (i > a[k])
					row[B] -= p;
				if (i < b[k] - 1)
					row[E] -= p;
			}
		}
	}
	Py_END_ALLOW_THREADS

	result = none();
done:
	free(spans);
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef atoms_methods[] = {
	METHOD(atom_runs),
	METHOD(constrain),
	END_OF_METHODS
};
