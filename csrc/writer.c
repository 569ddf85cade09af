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
"render_text(cps, tags, space, line_starts, line_ends, delimiter, out, body_ends) -> int\n\
\n\
Each line's words as UTF-8, joined by delimiter, back to back in out;\n\
body_ends[k] is where line k's body ends (lines in order, apart).  A\n\
word begins at every non-space position tagged s or b or first after a\n\
space, and ends before the next begin or space.  Returns the bytes written, or -1 for a code\n\
point UTF-8 with surrogateescape cannot encode.");

static PyObject *
render_text(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, TAGS, SPACE, LINE_STARTS, LINE_ENDS, DELIMITER, OUT, BODY_ENDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"cps", sizeof(uint32_t)}, {"tags", 1}, {"space", 1}, {"line_starts", sizeof(int64_t)},
		{"line_ends", sizeof(int64_t)}, {"delimiter", 0}, {"out", 1}, {"body_ends", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, nlines, k, written = 0;
	int bad = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*y*y*w*w*:render_text", &v[CPS], &v[TAGS], &v[SPACE],
	                 &v[LINE_STARTS], &v[LINE_ENDS], &v[DELIMITER], &v[OUT], &v[BODY_ENDS]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	nlines = v[LINE_STARTS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[TAGS].len != n || v[SPACE].len != n) {
		PyErr_SetString(PyExc_ValueError, "tags and space must have one item per code point");
		goto done;
	}
	if (v[LINE_ENDS].len != v[LINE_STARTS].len || v[BODY_ENDS].len != v[LINE_STARTS].len) {
		PyErr_SetString(PyExc_ValueError, "line_starts, line_ends and body_ends differ in length");
		goto done;
	}
	/* Room for the worst case: 4 bytes a code point, a delimiter before each. */
	if (v[OUT].len / (4 + v[DELIMITER].len) < n) {
		PyErr_SetString(PyExc_ValueError, "out: needs len(cps) * (4 + len(delimiter)) bytes");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const uint8_t *t = (const uint8_t *)v[TAGS].buf, *sp = (const uint8_t *)v[SPACE].buf;
		const uint8_t *d = (const uint8_t *)v[DELIMITER].buf;
		const Py_ssize_t dlen = v[DELIMITER].len;
		const int64_t *ls = (const int64_t *)v[LINE_STARTS].buf, *le = (const int64_t *)v[LINE_ENDS].buf;
		int64_t *be = (int64_t *)v[BODY_ENDS].buf;
		uint8_t *o = (uint8_t *)v[OUT].buf;
		int64_t previous_end = 0;
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
				a = end;
			}
			be[k] = written;
		}
	}
	Py_END_ALLOW_THREADS

	if (bad == 2) {
		PyErr_SetString(PyExc_ValueError, "lines must be in order, apart, and within the code points");
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
