/* The loop of segcli/writer.py: a batch's words, delimited, as UTF-8 output
 * bytes (render_text), cut as decode.c's words cuts them (core.h's
 * next_word).
 *
 * Twin: tests/reference_render.py.
 */
#include "core.h"

/* Writes code point c as UTF-8 at o; returns the bytes written, 0 for a
 * surrogate that does not stand for an undecodable input byte. */
static inline Py_ssize_t
put_utf8(uint32_t c, uint8_t *o)
{
	if (c < 0x80) {
		o[0] = (uint8_t)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (uint8_t)(0xC0 | (c >> 6));
		o[1] = (uint8_t)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c >= 0xD800 && c <= 0xDFFF) {
		/* surrogateescape: U+DC80..U+DCFF are the input's undecodable bytes. */
		if (c >= 0xDC80 && c <= 0xDCFF) {
			o[0] = (uint8_t)(c - 0xDC00);
			return 1;
		}
		return 0;
	}
	if (c < 0x10000) {
		o[0] = (uint8_t)(0xE0 | (c >> 12));
		o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (uint8_t)(0x80 | (c & 0x3F));
		return 3;
	}
	if (c < 0x110000) {
		o[0] = (uint8_t)(0xF0 | (c >> 18));
		o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
		o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		o[3] = (uint8_t)(0x80 | (c & 0x3F));
		return 4;
	}
	return 0;
}

PyDoc_STRVAR(render_text_doc,
"render_text(cps, tags, space, line_starts, line_ends, delimiter, out, body_ends,\n\
            word_labels, labels, label_ends) -> int\n\
\n\
Each line's words as UTF-8, joined by delimiter, back to back in out;\n\
body_ends[k] is where line k's body ends (lines in order, apart).  A\n\
word begins at every non-space position tagged s or b or first after a\n\
space, and ends before the next begin or space.  With word_labels (one a\n\
word of the batch, in order; empty: none), the batch's j-th word is\n\
followed by label word_labels[j]: labels[label_ends[i - 1]:label_ends[i]]\n\
(`seg --pos`'s /tag).  Returns the bytes written, or -1 for a code\n\
point UTF-8 with surrogateescape cannot encode.");

static PyObject *
render_text(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, TAGS, SPACE, LINE_STARTS, LINE_ENDS, DELIMITER, OUT, BODY_ENDS, WORD_LABELS, LABELS, LABEL_ENDS,
	       VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"cps", sizeof(uint32_t)}, {"tags", 1}, {"space", 1}, {"line_starts", sizeof(int64_t)},
		{"line_ends", sizeof(int64_t)}, {"delimiter", 0}, {"out", 1}, {"body_ends", sizeof(int64_t)},
		{"word_labels", sizeof(int64_t)}, {"labels", 0}, {"label_ends", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, nlines, nlabels, nwords, k, written = 0, longest = 0;
	int bad = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*y*y*w*w*y*y*y*:render_text", &v[CPS], &v[TAGS], &v[SPACE],
	                 &v[LINE_STARTS], &v[LINE_ENDS], &v[DELIMITER], &v[OUT], &v[BODY_ENDS], &v[WORD_LABELS],
	                 &v[LABELS], &v[LABEL_ENDS]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	nlines = v[LINE_STARTS].len / (Py_ssize_t)sizeof(int64_t);
	nwords = v[WORD_LABELS].len / (Py_ssize_t)sizeof(int64_t);
	nlabels = v[LABEL_ENDS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[TAGS].len != n || v[SPACE].len != n) {
		PyErr_SetString(PyExc_ValueError, "tags and space must have one item per code point");
		goto done;
	}
	if (v[LINE_ENDS].len != v[LINE_STARTS].len || v[BODY_ENDS].len != v[LINE_STARTS].len) {
		PyErr_SetString(PyExc_ValueError, "line_starts, line_ends and body_ends differ in length");
		goto done;
	}
	for (k = 0; k < nlabels; k++) {
		const int64_t *ends = (const int64_t *)v[LABEL_ENDS].buf;
		const int64_t from = k ? ends[k - 1] : 0;
		if (ends[k] < from || ends[k] > (int64_t)v[LABELS].len) {
			PyErr_SetString(PyExc_ValueError, "label_ends: expected ascending ends within labels");
			goto done;
		}
		if (ends[k] - from > longest)
			longest = (Py_ssize_t)(ends[k] - from);
	}
	for (k = 0; k < nwords; k++) {
		const int64_t label = ((const int64_t *)v[WORD_LABELS].buf)[k];
		if (label < 0 || label >= (int64_t)nlabels) {
			PyErr_SetString(PyExc_ValueError, "word_labels: a label that label_ends has not");
			goto done;
		}
	}
	/* Room for the worst case: 4 bytes a code point, a delimiter before and
	 * a label after each (a word has at least one). */
	if (v[OUT].len / (4 + v[DELIMITER].len + longest) < n) {
		PyErr_SetString(PyExc_ValueError, "out: needs len(cps) * (4 + len(delimiter) + the longest label) bytes");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const uint8_t *t = (const uint8_t *)v[TAGS].buf, *sp = (const uint8_t *)v[SPACE].buf;
		const uint8_t *d = (const uint8_t *)v[DELIMITER].buf, *labels = (const uint8_t *)v[LABELS].buf;
		const Py_ssize_t dlen = v[DELIMITER].len;
		const int64_t *ls = (const int64_t *)v[LINE_STARTS].buf, *le = (const int64_t *)v[LINE_ENDS].buf;
		const int64_t *word_labels = (const int64_t *)v[WORD_LABELS].buf;
		const int64_t *label_ends = (const int64_t *)v[LABEL_ENDS].buf;
		int64_t *be = (int64_t *)v[BODY_ENDS].buf;
		uint8_t *o = (uint8_t *)v[OUT].buf;
		int64_t previous_end = 0;
		Py_ssize_t word = 0;
		for (k = 0; k < nlines && !bad; k++) {
			int64_t i, a = ls[k], b = le[k], start, end;
			int first = 1;
			/* Lines in order and apart: each code point is written once, so out's size holds. */
			if (a < previous_end || a > b || b > (int64_t)n) {
				bad = 2;
				break;
			}
			previous_end = b;
			while (!bad && next_word(t, sp, a, b, &start, &end)) {
				if (!first) {
					memcpy(o + written, d, (size_t)dlen);
					written += dlen;
				}
				first = 0;
				for (i = start; i < end; i++) {
					Py_ssize_t w = put_utf8(c[i], o + written);
					if (w == 0) {
						bad = 1;
						break;
					}
					written += w;
				}
				if (nwords) {
					int64_t label, from;
					if (word >= nwords) {
						bad = 3;
						break;
					}
					label = word_labels[word++];
					from = label ? label_ends[label - 1] : 0;
					memcpy(o + written, labels + from, (size_t)(label_ends[label] - from));
					written += (Py_ssize_t)(label_ends[label] - from);
				}
				a = end;
			}
			be[k] = written;
		}
		if (!bad && nwords && word != nwords)
			bad = 3;
	}
	Py_END_ALLOW_THREADS

	if (bad == 2) {
		PyErr_SetString(PyExc_ValueError, "lines must be in order, apart, and within the code points");
		goto done;
	}
	if (bad == 3) {
		PyErr_SetString(PyExc_ValueError, "word_labels: expected one label a word of the batch");
		goto done;
	}
	result = PyLong_FromSsize_t(bad ? -1 : written);
done:
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef writer_methods[] = {
	METHOD(render_text),
	END_OF_METHODS
};
