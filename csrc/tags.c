/* The loop of segcli/pos.py: each word's tag id, the argmax of the sum of
 * its characters' rows of tag scores (word_tags).  numpy took three passes
 * over a batch's (N, tags) rows for it (gather the first rows, add the rest
 * a character position at a time, argmax), the largest Python cost of
 * `seg --pos` after onnxruntime.
 *
 * Twin: tests/reference_tags.py.
 */
#include "core.h"

PyDoc_STRVAR(word_tags_doc,
"word_tags(rows, tags, first_rows, lengths, ids) -> None\n\
\n\
ids[k] = the argmax over the `tags` columns of rows[first_rows[k] :\n\
first_rows[k] + lengths[k]] summed, added in row order in float32 (the\n\
first largest; a NaN, the first NaN, as numpy's argmax).");

static PyObject *
word_tags(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { ROWS, FIRST_ROWS, LENGTHS, IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"rows", sizeof(float)}, {"first_rows", sizeof(int64_t)}, {"lengths", sizeof(int64_t)},
		{"ids", sizeof(int64_t)},
	};
	Py_buffer v[VIEWS];
	Py_ssize_t tags, nrows, nwords;
	PyObject *result = NULL;
	float *sums = NULL;
	int bad = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*ny*y*w*:word_tags", &v[ROWS], &tags, &v[FIRST_ROWS],
	                 &v[LENGTHS], &v[IDS]) < 0)
		return NULL;
	nwords = v[FIRST_ROWS].len / (Py_ssize_t)sizeof(int64_t);
	if (tags < 1 || (v[ROWS].len / (Py_ssize_t)sizeof(float)) % tags != 0) {
		PyErr_SetString(PyExc_ValueError, "rows: expected whole rows of `tags` float32 scores (tags >= 1)");
		goto done;
	}
	if (v[LENGTHS].len / (Py_ssize_t)sizeof(int64_t) != nwords ||
	    v[IDS].len / (Py_ssize_t)sizeof(int64_t) != nwords) {
		PyErr_SetString(PyExc_ValueError, "first_rows, lengths and ids: expected one item a word each");
		goto done;
	}
	nrows = v[ROWS].len / (Py_ssize_t)sizeof(float) / tags;
	if ((sums = PyMem_RawMalloc((size_t)tags * sizeof(float))) == NULL) {
		PyErr_NoMemory();
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const float *r = (const float *)v[ROWS].buf;
		const int64_t *first = (const int64_t *)v[FIRST_ROWS].buf, *len = (const int64_t *)v[LENGTHS].buf;
		int64_t *ids = (int64_t *)v[IDS].buf;
		Py_ssize_t k, t;
		for (k = 0; k < nwords; k++) {
			int64_t a = first[k], n = len[k], i;
			const float *row;
			Py_ssize_t best = 0;
			if (a < 0 || n < 1 || a > (int64_t)nrows - n) {
				bad = 1;
				break;
			}
			row = r + a * tags;
			memcpy(sums, row, (size_t)tags * sizeof(float));
			for (i = 1; i < n; i++) {
				row += tags;
				for (t = 0; t < tags; t++)
					sums[t] += row[t];
			}
			for (t = 0; t < tags; t++) {
				if (sums[t] != sums[t]) {  /* NaN: numpy's argmax takes the first */
					best = t;
					break;
				}
				if (sums[t] > sums[best])
					best = t;
			}
			ids[k] = best;
		}
	}
	Py_END_ALLOW_THREADS

	result = none_unless(bad, "first_rows, lengths: a word outside the rows (or of no character)");
done:
	PyMem_RawFree(sums);
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef tags_methods[] = {
	METHOD(word_tags),
	END_OF_METHODS
};
