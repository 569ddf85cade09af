/* The loops of segcli/decode.py: constrained Viterbi over the four tags
 * s=0, b=1, m=2, e=3 (viterbi), and a decoded batch's words as lists of str
 * (words: the API's answer; it holds the GIL, as making Python objects must,
 * but does nothing else per word).
 *
 * Twins: tests/reference_viterbi.py (viterbi), tests/reference_render.py
 * (words).
 *
 * Viterbi tie-breaking (documented contract, mirrored by
 * tests/reference_viterbi.py): predecessors are scanned in index order with a
 * strict '>', so the first maximum wins; the final tag is s unless e is
 * strictly greater.  Each choice starts from the first legal candidate, so
 * NaN comparisons (always false) can only ever keep a legal tag: the output
 * is a legal sequence for any input.
 */
#include "core.h"

#include <math.h>

/* --- Viterbi -------------------------------------------------------------- */

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

PyDoc_STRVAR(viterbi_doc,
"viterbi(scores, starts, ends, transitions, out) -> None\n\
\n\
Constrained Viterbi over tags s=0, b=1, m=2, e=3.\n\
scores: float32 N x 4; starts, ends: int64, K each; transitions: float32\n\
4 x 4; out: writable uint8, N.  Segment k is rows [starts[k], ends[k]);\n\
rows outside every segment are not written.  Ties go to the lowest tag\n\
index.  Raises ValueError on bad sizes or bounds.");

static PyObject *
viterbi(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { SCORES, STARTS, ENDS, TRANSITIONS, OUT, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"scores", sizeof(float)}, {"starts", sizeof(int64_t)},
	                                        {"ends", sizeof(int64_t)}, {"transitions", sizeof(float)},
	                                        {"out", 1}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	const float *sc;
	const int64_t *st, *en;
	uint8_t *o, *bp = NULL;
	double trans[NTAGS * NTAGS];
	Py_ssize_t n, nseg, k, maxlen = 0;
	int raced = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*w*:viterbi", &v[SCORES], &v[STARTS], &v[ENDS],
	                 &v[TRANSITIONS], &v[OUT]) < 0)
		return NULL;
	if (v[SCORES].len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0) {
		PyErr_SetString(PyExc_ValueError, "scores: length is not a multiple of 4");
		goto done;
	}
	n = v[SCORES].len / (Py_ssize_t)(NTAGS * sizeof(float));
	if (v[TRANSITIONS].len != (Py_ssize_t)(NTAGS * NTAGS * sizeof(float))) {
		PyErr_SetString(PyExc_ValueError, "transitions: expected 16 items");
		goto done;
	}
	if (v[STARTS].len != v[ENDS].len) {
		PyErr_SetString(PyExc_ValueError, "starts and ends differ in length");
		goto done;
	}
	if (v[OUT].len != n) {
		PyErr_Format(PyExc_ValueError, "out: expected %zd items, got %zd",
		             n, v[OUT].len);
		goto done;
	}

	sc = (const float *)v[SCORES].buf;
	st = (const int64_t *)v[STARTS].buf;
	en = (const int64_t *)v[ENDS].buf;
	o = (uint8_t *)v[OUT].buf;
	nseg = v[STARTS].len / (Py_ssize_t)sizeof(int64_t);
	for (k = 0; k < NTAGS * NTAGS; k++)
		trans[k] = ((const float *)v[TRANSITIONS].buf)[k];

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

	result = none_unless(raced, "segment bounds changed during decoding");

done:
	free(bp);
	return release_buffers(v, VIEWS, result);
}

/* --- words ------------------------------------------------------------------ */

PyDoc_STRVAR(words_doc,
"words(lines: tuple[str, ...], tags, space, line_starts, line_ends) -> list[list[str]]\n\
\n\
Each line's words as slices of the line itself, cut as render_text cuts\n\
them; lines[k] spans [line_starts[k], line_ends[k]) of tags and space.\n\
Holds the GIL (it makes the strings) but nothing else per word.");

static PyObject *
words(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { TAGS, SPACE, LINE_STARTS, LINE_ENDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"tags", 1}, {"space", 1}, {"line_starts", sizeof(int64_t)},
	                                        {"line_ends", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *lines, *result = NULL, *line_words = NULL, *word;
	Py_ssize_t n, nlines, k;

	if (take_buffers(args, v, specs, VIEWS, "O!y*y*y*y*:words", &PyTuple_Type, &lines, &v[TAGS], &v[SPACE],
	                 &v[LINE_STARTS], &v[LINE_ENDS]) < 0)
		return NULL;
	n = v[TAGS].len;
	nlines = v[LINE_STARTS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[SPACE].len != n) {
		PyErr_SetString(PyExc_ValueError, "tags and space differ in length");
		goto done;
	}
	if (v[LINE_ENDS].len != v[LINE_STARTS].len || PyTuple_GET_SIZE(lines) != nlines) {
		PyErr_SetString(PyExc_ValueError, "lines, line_starts and line_ends differ in length");
		goto done;
	}
	result = PyList_New(nlines);
	if (result == NULL)
		goto done;
	{
		const uint8_t *t = (const uint8_t *)v[TAGS].buf, *sp = (const uint8_t *)v[SPACE].buf;
		const int64_t *ls = (const int64_t *)v[LINE_STARTS].buf, *le = (const int64_t *)v[LINE_ENDS].buf;
		for (k = 0; k < nlines; k++) {
			PyObject *line = PyTuple_GET_ITEM(lines, k);  /* a tuple: nothing can change it meanwhile */
			int64_t a = ls[k], b = le[k], at, start, end;
			if (a < 0 || a > b || b > (int64_t)n) {
				PyErr_SetString(PyExc_ValueError, "a line is not within tags");
				goto fail;
			}
			if (!PyUnicode_Check(line) || PyUnicode_GET_LENGTH(line) != (Py_ssize_t)(b - a)) {
				PyErr_Format(PyExc_ValueError, "lines[%zd]: expected a str of %lld characters", k,
				             (long long)(b - a));
				goto fail;
			}
			line_words = PyList_New(0);
			if (line_words == NULL)
				goto fail;
			for (at = a; next_word(t, sp, at, b, &start, &end); at = end) {
				word = PyUnicode_Substring(line, (Py_ssize_t)(start - a), (Py_ssize_t)(end - a));
				if (word == NULL || PyList_Append(line_words, word) < 0) {
					Py_XDECREF(word);
					goto fail;
				}
				Py_DECREF(word);
			}
			PyList_SET_ITEM(result, k, line_words);
			line_words = NULL;
		}
	}
	goto done;
fail:
	Py_XDECREF(line_words);
	Py_CLEAR(result);
done:
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef decode_methods[] = {
	METHOD(viterbi),
	METHOD(words),
	END_OF_METHODS
};
